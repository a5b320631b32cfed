"""The demo dataset builder: a realistic Guangdong retreat network from a seed.

``STEPS`` run in order over one ``Demo``; each is a small function that takes
the ``Demo``, writes its rows and records on the ``Demo`` what later steps
need (and returns it too). Every step draws from its own random stream
(``demo.rng("step name")``), so adding a step, or changing one, leaves the
others' output unchanged. To extend the seed (batches, bookings, fund
programmes, planning rounds), write ``build_<thing>(demo)`` and append it to
``STEPS``; the work in progress every login finds (fund programmes, batches and
bookings in every state, check-ins, settlements, a planning round) comes from
``groups.demo.activity``, whose steps are appended last.

The top of the union tree, the operators and the users go through
``groups.services`` (``organisation_create``, ``user_create``); the many rows
below (county, town and enterprise unions, bases, room types, routes) go in with
``bulk_create``, and the year of nightly inventory with the database's own bulk
path (``insert_inventory``).
"""

import datetime as dt
import io
import itertools
import random
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection
from django.utils import timezone

from bases.models import (
    Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture, RouteItem, Theme,
)
from groups.demo import geography as geo
from groups.demo import names
from groups.models import Membership, Organisation
from groups.services import organisation_create, user_create

DEMO_PASSWORD = "demo12345"
LOGIN_URL = "http://127.0.0.1:8000/login/"
DEFAULT_BASES = 139
DEFAULT_ROUTES = 30
INVENTORY_BATCH = 5000

Kind = Organisation.Kind
Role = Membership.Role


@dataclass(frozen=True)
class Config:
    seed: int = 2025
    bases: int = DEFAULT_BASES  # certified bases; a few applied / suspended / revoked ones come on top
    nights: int = 365  # nights of inventory from the first of the current month (the previous month comes too)
    routes: int | None = None  # None: 30 at the default scale, proportionally fewer for fewer bases
    today: dt.date | None = None  # None: timezone.localdate()


@dataclass(frozen=True)
class Login:
    username: str
    role: str  # what they do, in Chinese
    acts_for: str  # the organisation's name


@dataclass
class Demo:
    """What the steps have built so far; later steps read what earlier ones left."""

    config: Config
    today: dt.date
    province: Organisation | None = None
    cities: dict[str, Organisation] = field(default_factory=dict)  # by city code
    counties: dict[str, Organisation] = field(default_factory=dict)  # by county code
    towns: list[Organisation] = field(default_factory=list)
    enterprises: list[Organisation] = field(default_factory=list)
    industry_unions: list[Organisation] = field(default_factory=list)
    organ_unions: list[Organisation] = field(default_factory=list)
    visiting_unions: list[Organisation] = field(default_factory=list)
    themes: dict[str, Theme] = field(default_factory=dict)  # by key ("red", "spring", ...; see names.THEMES)
    operators: list[Organisation] = field(default_factory=list)
    bases: list[Base] = field(default_factory=list)
    base_plans: dict[int, "CertificationPlan"] = field(default_factory=dict)  # by base pk
    room_types: dict[int, list[RoomType]] = field(default_factory=dict)  # by base pk, 标准双床房 first
    users: dict[str, object] = field(default_factory=dict)  # by username
    logins: list[Login] = field(default_factory=list)
    inventory_first: dt.date | None = None
    inventory_last: dt.date | None = None
    closures: dict[int, list[tuple[dt.date, dt.date]]] = field(default_factory=dict)  # base pk → closed ranges
    routes: list[Route] = field(default_factory=list)
    departures: list[RouteDeparture] = field(default_factory=list)
    activity: object = None  # groups.demo.activity.Activity: what the work-in-progress steps share

    def rng(self, step: str) -> random.Random:
        """An independent, reproducible random stream for one step."""
        return random.Random(f"{self.config.seed}:{step}")

    @property
    def certified_bases(self) -> list[Base]:
        return [base for base in self.bases if base.status == Base.Status.CERTIFIED]

    def user(self, username: str):
        return self.users[username]


def aware(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _contact(org: Organisation, phone: str) -> Organisation:
    org.contact_phone = phone
    return org


# --- unions -----------------------------------------------------------------------------


def build_unions(demo: Demo) -> Organisation:
    """The provincial federation and its tree, industry and organ unions, visiting unions.

    The top of the tree goes through ``organisation_create``; the ~800 unions below
    the cities go in level by level with ``bulk_create_unions``.
    """
    rng = demo.rng("unions")
    phones: list[Organisation] = []
    levels: dict[int, list[Organisation]] = defaultdict(list)  # depth → unions still to insert

    def union(name: str, kind: str, code: str, parent: Organisation | None, area_code: str, *, level: int = 0) -> Organisation:
        phone = names.landline(rng, area_code)
        if level:
            org = Organisation(name=name, kind=kind, division_code=code, parent=parent, contact_phone=phone)
            levels[level].append(org)
        else:
            org = organisation_create(name=name, kind=kind, division_code=code, parent=parent)
            phones.append(_contact(org, phone))
        return org

    province = demo.province = union("广东省总工会", Kind.PROVINCE, geo.PROVINCE_CODE, None, "020")
    demo.organ_unions.append(union("广东省直机关工会", Kind.ORGAN, geo.PROVINCE_CODE, province, "020"))
    for name in geo.INDUSTRY_UNIONS:
        demo.industry_unions.append(union(name, Kind.INDUSTRY, geo.PROVINCE_CODE, province, "020"))

    used_names: set[str] = set()

    def enterprise(parent: Organisation, place: str, code: str, industries: tuple[str, ...], area_code: str,
                   institutions: bool = True) -> None:
        for _ in range(20):
            name = names.enterprise_union_name(rng, place=place, industries=industries, institutions=institutions)
            if name not in used_names:
                break
        else:
            return
        used_names.add(name)
        demo.enterprises.append(union(name, Kind.ENTERPRISE, code, parent, area_code, level=4))

    for city in geo.CITIES:
        city_union = demo.cities[city.code] = union(f"{city.name}总工会", Kind.CITY, city.code, province, city.area_code)
        demo.organ_unions.append(union(f"{city.name}直机关工会", Kind.ORGAN, city.code, city_union, city.area_code, level=2))
        industries = geo.INDUSTRIES[city.code]
        if not city.counties:  # Dongguan, Zhongshan: towns and streets straight under the city
            for town in city.towns:
                town_union = union(f"{city.name}{town}总工会", Kind.TOWN, city.code, city_union, city.area_code, level=2)
                demo.towns.append(town_union)
                for _ in range(rng.randint(2, 5) if city.code == "441900" else rng.randint(1, 4)):
                    enterprise(town_union, city.name, city.code, industries, city.area_code)
            continue
        for county in city.counties:
            county_name = county.name if county.name.endswith("市") else f"{city.name}{county.name}"
            county_union = union(f"{county_name}总工会", Kind.COUNTY, county.code, city_union, city.area_code, level=2)
            demo.counties[county.code] = county_union
            town_unions = [
                union(f"{county_name}{town}总工会", Kind.TOWN, county.code, county_union, city.area_code, level=3)
                for town in geo.TOWNS.get(county.code, ()) if city.prd
            ]
            demo.towns.extend(town_unions)
            count = rng.randint(3, 8) if city.prd else rng.choice((0, 1, 1, 1, 2, 2))
            for _ in range(count):
                parent = rng.choice(town_unions) if town_unions and rng.random() < 0.7 else county_union
                place = county_name if county.name.endswith("市") or rng.random() < 0.5 else city.name
                enterprise(parent, place, county.code, industries, city.area_code)

    industry_firms = {
        "广东省交通运输工会": ("高速公路运营", "航运", "公路建设"),
        "广东省教科文卫工会": ("出版传媒", "检测认证", "医疗器械"),
        "广东省机械冶金建材工会": ("重型机械", "钢铁", "水泥"),
        "广东省能源化学工会": ("电力", "燃气", "石化"),
    }
    for industry_union in demo.industry_unions:
        firms = industry_firms.get(industry_union.name)
        if firms:
            for _ in range(rng.randint(1, 2)):
                enterprise(industry_union, "广东", geo.PROVINCE_CODE, firms, "020", institutions=False)

    visiting_by_name: dict[str, Organisation] = {}
    for name, code, area_code, parent_name in geo.VISITING_UNIONS:
        org = union(name, Kind.VISITING, code, visiting_by_name.get(parent_name), area_code)
        visiting_by_name[name] = org
        demo.visiting_unions.append(org)

    Organisation.objects.bulk_update(phones, ["contact_phone"], batch_size=500)
    for level in sorted(levels):
        bulk_create_unions(levels[level])
    return province


def bulk_create_unions(unions: list[Organisation]) -> list[Organisation]:
    """``organisation_create`` for many unions at once, whose parents are already saved.

    The objects are saved in place (their pk and path set), so references to them stay good.
    """
    for union in unions:
        union.full_clean(exclude=["path", "parent"], validate_constraints=False)  # the CHECK constraint stays the backstop
    Organisation.objects.bulk_create(unions, batch_size=500)
    for union in unions:
        union.path = f"{union.parent.path}{union.pk}/"
    Organisation.objects.bulk_update(unions, ["path"], batch_size=500)
    return unions


# --- bases ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificationPlan:
    """How a base's certification history goes; build_certifications writes the events."""

    outcome: str  # certified, expiring, reinstated, applied, suspended, revoked
    applied_on: dt.date
    certified_on: dt.date | None = None
    changed_on: dt.date | None = None  # suspended / revoked on
    reinstated_on: dt.date | None = None


def _allocate(total: int, weights: dict[str, int], must_have: str) -> dict[str, int]:
    """Split ``total`` bases over cities by weight (largest remainder); ``must_have`` gets at least one."""
    weight_sum = sum(weights.values())
    exact = {code: total * weight / weight_sum for code, weight in weights.items()}
    counts = {code: int(value) for code, value in exact.items()}
    order = sorted(weights, key=lambda code: (-(exact[code] - counts[code]), -weights[code], code))
    for code in order[: total - sum(counts.values())]:
        counts[code] += 1
    if total and counts[must_have] == 0:
        donor = max(counts, key=lambda code: (counts[code], code))
        counts[donor] -= 1
        counts[must_have] += 1
    return counts


ROOM_TYPES = (  # name, beds per room
    ("大床房", 1),
    ("三人间", 3),
    ("家庭房", 4),
)
ROOM_RANGE = {"H": (30, 80), "M": (10, 20), "S": (30, 80), "L": (20, 60), "R": (15, 50), "E": (20, 60)}
PRICE_SHIFT = {"H": 40, "M": -20, "S": 0, "L": 20, "R": 0, "E": -10}
CANCELLATION_POLICIES = ([[30, 0], [7, 20], [0, 50]], [[15, 0], [3, 30], [0, 100]], [[14, 0], [0, 30]], [[7, 0], [0, 20]])
SUSPEND_REASONS = (
    "消防安全检查发现隐患，责令限期整改，整改期间暂停接待",
    "职工投诉餐饮卫生问题，暂停接待，待市场监管部门复查",
    "经营主体变更，暂停认定，待重新核实运营资质",
    "客房设施未达到认定标准，限期三个月整改",
)


def _room_type_specs(rng: random.Random, letter: str) -> list[dict]:
    low, high = ROOM_RANGE[letter]
    twin_price = max(180, min(380, rng.randint(20, 36) * 10 + PRICE_SHIFT[letter]))
    meals = Decimal(rng.randint(6, 15) * 10)
    specs = [{
        "name": "标准双床房", "beds_per_room": 2, "rooms": rng.randint(low, high),
        "price": twin_price, "meals": meals, "accessible": rng.random() < 0.35,
    }]
    extra = rng.sample(ROOM_TYPES, rng.choice((1, 1, 2, 2, 3)))
    for name, beds in sorted(extra, key=lambda item: item[1]):
        if name == "家庭房":
            beds = rng.choice((3, 4))
        shift = {1: 40, 3: -30}.get(beds, -20)
        specs.append({
            "name": name, "beds_per_room": beds, "rooms": rng.randint(10, max(10, min(25, high // 2))),
            "price": max(180, min(420, twin_price + shift)), "meals": meals, "accessible": name == "大床房" and rng.random() < 0.3,
        })
    for spec in specs:
        spec["price"] = Decimal(spec["price"])
    return specs


def build_bases(demo: Demo) -> list[Base]:
    """Themes, operators, ~139 certified bases plus a few in the admin queue, and their room types."""
    rng = demo.rng("bases")
    today, config = demo.today, demo.config
    for key, (slug, theme_name) in names.THEMES.items():
        demo.themes[key], _ = Theme.objects.update_or_create(slug=slug, defaults={"name": theme_name})

    counts = _allocate(config.bases, geo.BASE_WEIGHTS, must_have="441600")
    extra_counts = {"applied": max(1, config.bases // 35), "suspended": max(1, config.bases // 60),
                    "revoked": 1 if config.bases >= 60 else 0}
    slots: list[tuple[str, str]] = [(code, "certified") for code in geo.BASE_WEIGHTS for _ in range(counts[code])]
    certified_indexes = list(range(len(slots)))
    rng.shuffle(certified_indexes)
    n_expiring = max(1, config.bases // 35) if config.bases >= 3 else 0
    n_reinstated = 1 if config.bases >= 30 else 0
    for index in certified_indexes[:n_expiring]:
        slots[index] = (slots[index][0], "expiring")
    for index in certified_indexes[n_expiring:n_expiring + n_reinstated]:
        slots[index] = (slots[index][0], "reinstated")
    rural_weights = {code: weight for code, weight in geo.BASE_WEIGHTS.items() if weight >= 5}
    for outcome, count in extra_counts.items():
        for _ in range(count):
            slots.append((rng.choices(list(rural_weights), list(rural_weights.values()))[0], outcome))

    cycle_from = dt.date(today.year - 2, 1, 1)
    cycle_until = dt.date(today.year + 1, 12, 31)
    spot_queue: dict[str, list[geo.Spot]] = {}
    used_kinds: dict[geo.Spot, set[str]] = defaultdict(set)
    used_names: set[str] = set()
    pending_enterprises: list[Organisation] = []  # the many leaves go in with one bulk_create
    operator_names: set[str] = set()
    group_operators: dict[str, list[list]] = defaultdict(list)  # city → [[org, bases run]]
    provincial_seq = itertools.count(rng.randint(8, 40))
    city_seq: dict[str, Iterator[int]] = defaultdict(lambda: itertools.count(rng.randint(1, 12)))

    pending: list[tuple[Base, list[dict], list[str], CertificationPlan]] = []
    for number, (city_code, outcome) in enumerate(slots, start=1):
        city = geo.CITY_BY_CODE[city_code]
        queue = spot_queue.setdefault(city_code, [])
        if not queue:
            queue.extend(rng.sample(geo.spots_in(city_code), len(geo.spots_in(city_code))))
        spot = queue.pop()
        county = geo.COUNTY_BY_CODE.get(spot.county)
        fresh = [letter for letter in spot.kinds if letter not in used_kinds[spot]]
        # The spot's first kind is what it is best known for (a hot spring's is H).
        letter = fresh[0] if fresh and rng.random() < 0.5 else rng.choice(fresh or spot.kinds)
        used_kinds[spot].add(letter)
        for _ in range(12):
            name = names.base_name(rng, city=city, county=county, spot=spot, kind_letter=letter)
            if name not in used_names:
                break
        else:
            name = f"{name}（{names.cn_number(2)}部）"
        used_names.add(name)

        # The operator: its own company, or a group that runs two or three bases in the city.
        operator = None
        if rng.random() < 0.3:
            running = [entry for entry in group_operators[city_code] if entry[1] < 3]
            if running:
                entry = running[0]
                entry[1] += 1
                operator = entry[0]
            else:
                group_name = names.group_operator_name(rng, city=city)
                if group_name not in operator_names:
                    operator_names.add(group_name)
                    operator = organisation_create(name=group_name, kind=Kind.OPERATOR, division_code=spot.county)
                    group_operators[city_code].append([operator, 1])
        if operator is None:
            operator_name = names.operator_name(rng, city=city, spot=spot, kind_letter=letter)
            while operator_name in operator_names:
                operator_name = names.group_operator_name(rng, city=city)
            operator_names.add(operator_name)
            operator = organisation_create(name=operator_name, kind=Kind.OPERATOR, division_code=spot.county)
        if operator not in demo.operators:
            operator.contact_phone = names.landline(rng, city.area_code)
            demo.operators.append(operator)

        specs = _room_type_specs(rng, letter)
        theme_keys = list(spot.themes)
        implied = {"H": "spring", "S": "spring", "E": "red" if not theme_keys else None}.get(letter)
        for key in (implied, "model" if letter in "SE" or rng.random() < 0.2 else None,
                    "rural" if county and county.rural and rng.random() < 0.3 else None):
            if key and key not in theme_keys:
                theme_keys.append(key)
        theme_keys = theme_keys[:3]

        lat0, lon0 = (county.lat, county.lon) if county else (city.lat, city.lon)
        rooms = sum(spec["rooms"] for spec in specs)
        beds = sum(spec["rooms"] * spec["beds_per_room"] for spec in specs)

        level, certificate, valid_from, valid_until = "", "", None, None
        plan = CertificationPlan(outcome="applied", applied_on=today - dt.timedelta(days=rng.randint(5, 40)))
        if outcome != "applied":
            provincial = rng.random() < 0.8
            if provincial:
                valid_from = cycle_from if rng.random() < 0.8 else dt.date(today.year - 1, rng.randint(1, 12), 1)
                valid_until = cycle_until
            else:
                valid_from, valid_until = dt.date(today.year - 1, 1, 1), dt.date(today.year + 1, 12, 31)
            if outcome == "expiring":
                valid_until = today + dt.timedelta(days=rng.randint(12, 45))
            level = Base.Level.PROVINCIAL if provincial else Base.Level.CITY
            if provincial:
                certificate = f"粤工疗〔{valid_from.year}〕第{next(provincial_seq):04d}号"
            else:
                certificate = f"{city.short}工疗〔{valid_from.year}〕第{next(city_seq[city_code]):03d}号"
            certified_on = valid_from - dt.timedelta(days=rng.randint(3, 25))
            changed_on = reinstated_on = None
            if outcome in ("suspended", "revoked", "reinstated"):
                changed_on = today - dt.timedelta(days=rng.randint(20, 90) if outcome != "suspended" else rng.randint(3, 30))
                changed_on = max(changed_on, valid_from + dt.timedelta(days=30))
            if outcome == "reinstated":
                reinstated_on = changed_on + dt.timedelta(days=rng.randint(10, 19))
            plan = CertificationPlan(
                outcome=outcome, applied_on=certified_on - dt.timedelta(days=rng.randint(30, 90)),
                certified_on=certified_on, changed_on=changed_on, reinstated_on=reinstated_on,
            )
        status = {
            "certified": Base.Status.CERTIFIED, "expiring": Base.Status.CERTIFIED, "reinstated": Base.Status.CERTIFIED,
            "applied": Base.Status.APPLIED, "suspended": Base.Status.SUSPENDED, "revoked": Base.Status.REVOKED,
        }[outcome]

        base = Base(
            operator=operator, name=name, city_code=city.code, county_code=spot.county,
            address=names.address(rng, city=city, county=county, spot=spot),
            latitude=Decimal(f"{lat0 + rng.uniform(-0.08, 0.08):.6f}"),
            longitude=Decimal(f"{lon0 + rng.uniform(-0.1, 0.1):.6f}"),
            kind=names.KIND_BY_LETTER[letter], is_rural=bool(county and county.rural),
            description=names.base_description(
                rng, name=name, city=city, county=county, spot=spot, rooms=rooms, beds=beds,
                theme_names=[names.THEMES[key][1] for key in theme_keys],
            ),
            contact_name=names.person_name(rng), contact_phone=names.mobile(rng),
            contact_email=f"jidi{number:03d}@retreat-demo.cn",
            cancellation_policy=rng.choice(CANCELLATION_POLICIES) if rng.random() < 0.45 else [],
            discount_percent=Decimal(rng.choice((5, 8, 10, 12))) if rng.random() < 0.25 else Decimal(0),
            status=status, level=level, certificate_number=certificate, valid_from=valid_from, valid_until=valid_until,
        )
        pending.append((base, specs, theme_keys, plan))

    Organisation.objects.bulk_update(demo.operators, ["contact_phone"], batch_size=500)
    demo.bases = Base.objects.bulk_create([base for base, *_ in pending])
    Through = Base.themes.through
    Through.objects.bulk_create(
        Through(base_id=base.pk, theme_id=demo.themes[key].pk) for base, _, keys, _ in pending for key in keys
    )
    room_types = RoomType.objects.bulk_create(
        RoomType(
            base_id=base.pk, name=spec["name"], beds_per_room=spec["beds_per_room"], rooms=spec["rooms"],
            price_per_night=spec["price"], meals_per_day=spec["meals"], accessible=spec["accessible"],
        )
        for base, specs, _, _ in pending for spec in specs
    )
    for room_type in room_types:
        demo.room_types.setdefault(room_type.base_id, []).append(room_type)
    demo.base_plans = {base.pk: plan for base, _, _, plan in pending}
    return demo.bases


# --- users ------------------------------------------------------------------------------


ROLE_LABELS = {
    Role.ADMINISTRATOR: "管理员",
    Role.ORGANISER: "工会组织者",
    Role.OPERATOR: "基地运营人员",
    Role.FUND_MANAGER: "经费管理员",
}


def _demo_operator(demo: Demo) -> Organisation:
    """The operator of a certified Heyuan base, preferring one that runs several bases."""
    heyuan = [base for base in demo.certified_bases if base.city_code == "441600"] or demo.certified_bases or demo.bases
    runs = defaultdict(int)
    for base in demo.bases:
        runs[base.operator_id] += 1
    best = max(heyuan, key=lambda base: (runs[base.operator_id], -base.pk))
    return best.operator


def build_users(demo: Demo) -> dict:
    """One login per role (password demo12345), and the superuser ``root``."""
    rng = demo.rng("users")
    dongguan = demo.cities["441900"]
    dongguan_enterprises = [org for org in demo.enterprises if org.path.startswith(dongguan.path)]
    enterprise = rng.choice(dongguan_enterprises) if dongguan_enterprises else dongguan
    plan = (
        ("admin", demo.province, Role.ADMINISTRATOR, "省级管理员"),
        ("dg_admin", dongguan, Role.ADMINISTRATOR, "市级管理员"),
        ("organiser", enterprise, Role.ORGANISER, "企业工会组织者"),
        ("dg_organiser", dongguan, Role.ORGANISER, "市总工会组织者"),
        ("operator", _demo_operator(demo), Role.OPERATOR, "基地运营人员"),
        ("fund", dongguan, Role.FUND_MANAGER, "市级经费管理员"),
        ("prov_fund", demo.province, Role.FUND_MANAGER, "省级经费管理员"),
    )
    # One hash for all demo logins: the password is the same and hashing is slow (~1 s each).
    hashed = make_password(DEMO_PASSWORD)
    for username, organisation, role, label in plan:
        demo.users[username] = _demo_user(username, hashed, organisation, role, names.person_name(rng))
        demo.logins.append(Login(username, label, organisation.name))
    root = get_user_model().objects.create_superuser(username="root", email="root@retreat-demo.cn", password=None)
    root.password = hashed
    root.first_name = names.person_name(rng)
    root.save(update_fields=["password", "first_name"])
    Membership.objects.create(user=root, organisation=demo.province, role=Role.ADMINISTRATOR)
    demo.users["root"] = root
    demo.logins.append(Login("root", "超级用户（/admin/）· 省级管理员", demo.province.name))
    return demo.users


def _demo_user(username: str, hashed: str, organisation: Organisation, role: str, full_name: str):
    """``user_create``, with the demo password's hash computed once for all demo users.

    ``create_user`` takes ``password=None`` as "no usable password yet"; the shared hash is set right after.
    """
    user = user_create(
        username=username, password=None, organisation=organisation, role=role, full_name=full_name,
        email=f"{username}@retreat-demo.cn",
    )
    user.password = hashed
    user.save(update_fields=["password"])
    return user


# --- certification history ----------------------------------------------------------------


def build_certifications(demo: Demo) -> list[CertificationEvent]:
    """The certification history of every base, as the admin queue and audit trail see it."""
    rng = demo.rng("certifications")
    admin = demo.user("admin")
    S, A = Base.Status, CertificationEvent.Action
    events: list[CertificationEvent] = []
    for base in demo.bases:
        plan = demo.base_plans[base.pk]
        city = geo.CITY_BY_CODE[base.city_code]

        def event(action: str, from_status: str, to_status: str, day: dt.date, hour: int, reason: str, *, actor=admin,
                  certified: bool = True) -> None:
            events.append(CertificationEvent(
                base_id=base.pk, action=action, from_status=from_status, to_status=to_status,
                level=base.level if certified else "", certificate_number=base.certificate_number if certified else "",
                valid_from=base.valid_from if certified else None, valid_until=base.valid_until if certified else None,
                actor=actor, reason=reason, at=aware(day, hour, rng.choice((0, 15, 30, 45))),
            ))

        event(A.APPLY, S.DRAFT, S.APPLIED, plan.applied_on, 9, "运营单位提交职工疗休养基地认定申请及消防、卫生许可材料",
              actor=None, certified=False)
        if plan.outcome == "applied":
            continue
        if base.level == Base.Level.PROVINCIAL:
            reason = "经材料审核和现场评估，符合职工疗休养基地认定条件，认定为省级职工疗休养基地"
        else:
            reason = f"经{city.name}总工会推荐、现场评估，认定为市级职工疗休养基地"
        event(A.CERTIFY, S.APPLIED, S.CERTIFIED, plan.certified_on, 15, reason)
        if plan.outcome in ("suspended", "reinstated"):
            event(A.SUSPEND, S.CERTIFIED, S.SUSPENDED, plan.changed_on, 11, rng.choice(SUSPEND_REASONS))
        if plan.outcome == "reinstated":
            event(A.REINSTATE, S.SUSPENDED, S.CERTIFIED, plan.reinstated_on, 16, "整改完成，经复查符合认定条件，恢复接待")
        if plan.outcome == "revoked":
            event(A.REVOKE, S.CERTIFIED, S.REVOKED, plan.changed_on, 14, "年度复核不合格且逾期未整改，撤销职工疗休养基地认定")
    return CertificationEvent.objects.bulk_create(events)


# --- inventory --------------------------------------------------------------------------


def spring_festival_closure(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """除夕 to 初六 of every Spring Festival that touches [first, last]."""
    ranges = []
    for year in range(first.year, last.year + 1):
        if year in geo.SPRING_FESTIVAL:
            new_year = dt.date(year, *geo.SPRING_FESTIVAL[year])
            start, end = new_year - dt.timedelta(days=1), new_year + dt.timedelta(days=5)
            if start <= last and end >= first:
                ranges.append((max(start, first), min(end, last)))
    return ranges


def _chunks(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def build_inventory(demo: Demo) -> int:
    """Nightly inventory for every room type of every base not revoked: ``nights`` nights from the first of
    this month, plus the whole previous month so that the stays already over (checked in, settled) have nights."""
    rng = demo.rng("inventory")
    this_month = demo.today.replace(day=1)
    first = demo.inventory_first = (this_month - dt.timedelta(days=1)).replace(day=1)
    last = demo.inventory_last = this_month + dt.timedelta(days=demo.config.nights - 1)
    nights = (last - first).days + 1
    festival = spring_festival_closure(first, last)

    plans = []  # (room type, closed nights, reduced nights → rooms)
    for base in demo.bases:
        closures: list[tuple[dt.date, dt.date]] = []
        if festival and rng.random() < 0.45:  # 春节停业检修
            closures.extend(festival)
        if nights > 14 and rng.random() < 0.3:  # a maintenance week
            start = first + dt.timedelta(days=rng.randint(0, nights - 7))
            closures.append((start, start + dt.timedelta(days=6)))
        demo.closures[base.pk] = closures
        if base.status == Base.Status.REVOKED:
            continue
        closed = {start + dt.timedelta(days=i) for start, end in closures for i in range((end - start).days + 1)}
        for room_type in demo.room_types[base.pk]:
            reduced: dict[dt.date, int] = {}
            if nights > 30 and rng.random() < 0.08 and room_type.rooms > 10:  # some rooms under renovation
                start = first + dt.timedelta(days=rng.randint(0, nights - 30))
                left = room_type.rooms - rng.randint(2, room_type.rooms // 3)
                reduced = {start + dt.timedelta(days=i): left for i in range(rng.randint(14, 30))}
            plans.append((room_type, closed, reduced))

    days = [first + dt.timedelta(days=i) for i in range(nights)]
    rows = (
        (room_type.pk, day, reduced.get(day, room_type.rooms), day in closed)
        for room_type, closed, reduced in plans for day in days
    )
    return insert_inventory(rows)


def insert_inventory(rows: Iterable[tuple[int, dt.date, int, bool]]) -> int:
    """Insert (room type id, night, rooms, closed) rows with nothing held or booked, in batches.

    A year of inventory is ~150,000 rows. ``bulk_create`` spends most of its time
    building and preparing a model per row (and on SQLite is capped at 999
    parameters, 111 rows, a statement), so the two databases the product runs on
    get their native bulk paths — ``executemany`` on SQLite, ``COPY`` on
    PostgreSQL — which load a year in a second or two instead of 10–20 s.
    Anything else gets ``bulk_create`` in batches.
    """
    quote = connection.ops.quote_name
    table = quote(NightInventory._meta.db_table)
    columns = ("room_type_id", "night", "rooms", "closed", "rooms_held", "rooms_booked", "people_held", "people_booked")
    column_list = ", ".join(map(quote, columns))
    created = 0
    with connection.cursor() as cursor:
        raw = getattr(cursor, "cursor", None)
        if connection.vendor == "sqlite":
            sql = f"INSERT INTO {table} ({column_list}) VALUES ({', '.join(['%s'] * len(columns))})"
            for chunk in _chunks(rows, INVENTORY_BATCH):
                cursor.executemany(sql, [(*row, 0, 0, 0, 0) for row in chunk])
                created += len(chunk)
            return created
        if connection.vendor == "postgresql" and hasattr(raw, "copy_expert"):
            for chunk in _chunks(rows, INVENTORY_BATCH * 10):
                buffer = io.StringIO("".join(
                    f"{room_type_id}\t{night.isoformat()}\t{rooms}\t{'t' if closed else 'f'}\t0\t0\t0\t0\n"
                    for room_type_id, night, rooms, closed in chunk
                ))
                raw.copy_expert(f"COPY {table} ({column_list}) FROM STDIN", buffer)
                created += len(chunk)
            return created
    for chunk in _chunks(rows, INVENTORY_BATCH):
        NightInventory.objects.bulk_create(
            NightInventory(room_type_id=room_type_id, night=night, rooms=rooms, closed=closed)
            for room_type_id, night, rooms, closed in chunk
        )
        created += len(chunk)
    return created


# --- routes -----------------------------------------------------------------------------


ROUTE_THEME_WORDS = {
    "red": "红色研学", "spring": "温泉康养", "rural": "乡村振兴", "heritage": "非遗文化", "eco": "生态康养",
    "tea": "茶韵", "hakka": "客家风情", "coast": "滨海休闲", "model": "劳模精神",
}
EVENINGS = (
    ("基地温泉区", "温泉泡浴，放松身心", "spring"),
    ("基地多功能厅", "职工联欢会", "model"),
    ("基地茶室", "茶艺体验与交流", "tea"),
    ("基地多功能厅", "观看红色教育影片", "red"),
    ("基地理疗中心", "中医推拿与健康咨询", "spring"),
)


def _route_count(config: Config) -> int:
    if config.routes is not None:
        return config.routes
    return max(2, round(DEFAULT_ROUTES * config.bases / DEFAULT_BASES))


def _overlaps(closures: list[tuple[dt.date, dt.date]], first: dt.date, last: dt.date) -> bool:
    return any(start <= last and first <= end for start, end in closures)


def build_routes(demo: Demo) -> list[Route]:
    """Multi-day programmes of base operators, with day items and weekly departures."""
    rng = demo.rng("routes")
    wanted = _route_count(demo.config)
    horizon = (demo.today + dt.timedelta(days=60))
    eligible = [
        base for base in demo.certified_bases
        if base.city_code in geo.POIS and base.valid_until >= horizon and demo.room_types.get(base.pk)
    ]
    by_operator: dict[int, list[Base]] = defaultdict(list)
    for base in eligible:
        by_operator[base.operator_id].append(base)
    operator_ids = list(by_operator)
    rng.shuffle(operator_ids)
    if not operator_ids or not wanted:
        return []
    by_city: dict[str, list[Base]] = defaultdict(list)
    for base in eligible:
        by_city[base.city_code].append(base)

    titles: set[str] = set()
    plans = []
    for number in range(wanted):
        operator_id = operator_ids[number % len(operator_ids)]
        home = rng.choice(by_operator[operator_id])
        city = geo.CITY_BY_CODE[home.city_code]
        days = rng.choice((2, 3, 3, 4, 4, 5))
        partners = [base for base in by_city[city.code] if base.pk != home.pk]
        partner = rng.choice(partners) if days >= 4 and partners and rng.random() < 0.6 else None
        night_bases = [home if partner is None or i < (days - 1 + 1) // 2 else partner for i in range(days - 1)]

        specific = list(geo.POIS[city.code])
        common = [(short, place.format(city=city.name), activity, theme) for short, place, activity, theme in geo.COMMON_POIS]
        slots = 2 * days - 2
        chosen = rng.sample(specific, min(len(specific), slots - 1))
        chosen.append(common[0] if rng.random() < 0.6 else rng.choice(common))
        extra = [poi for poi in common if poi not in chosen]
        while len(chosen) < slots:
            chosen.append(extra.pop(rng.randrange(len(extra))))
        rng.shuffle(chosen)
        theme_keys = list(dict.fromkeys(theme for *_, theme in chosen))[:3]
        lead = [poi for poi in chosen if poi in specific][:2]
        word = ROUTE_THEME_WORDS[rng.choice(theme_keys)]
        title = f"{city.short}{'·'.join(poi[0] for poi in lead)}{word}{names.cn_number(days)}日疗休养线路"
        if title in titles:
            title = f"{city.short}{'·'.join(poi[0] for poi in lead)}{names.cn_number(days)}天{names.cn_number(days - 1)}晚{word}精品线路"
        if title in titles:
            continue
        titles.add(title)

        lodging = sum(
            demo.room_types[base.pk][0].price_per_night + demo.room_types[base.pk][0].meals_per_day for base in night_bases
        )
        price = (lodging + Decimal(days * rng.randint(6, 12) * 10)).quantize(Decimal("1"))
        price = Decimal(int(price) // 10 * 10)
        bases_text = "、".join(dict.fromkeys(base.name for base in night_bases))
        summary = (
            f"行程{days}天{days - 1}晚，走进{'、'.join(poi[1] for poi in chosen[:3])}等地，"
            f"入住{bases_text}。适合20至60人的职工疗休养团队，含住宿、餐饮、景点门票、讲解和当地交通。"
        )
        plans.append((Route(operator_id=operator_id, title=title, summary=summary, price_per_head=price), days,
                       night_bases, chosen, theme_keys))

    routes = Route.objects.bulk_create([route for route, *_ in plans])
    Through = Route.themes.through
    Through.objects.bulk_create(
        Through(route_id=route.pk, theme_id=demo.themes[key].pk)
        for route, (_, _, _, _, keys) in zip(routes, plans, strict=True) for key in keys
    )

    day_rows, day_items = [], []
    for route, (_, days, night_bases, chosen, _) in zip(routes, plans, strict=True):
        activities = iter(chosen)
        for number in range(1, days + 1):
            night_base = night_bases[number - 1] if number < days else None
            day_rows.append(RouteDay(
                route_id=route.pk, number=number, night_base=night_base,
                night_room_type=demo.room_types[night_base.pk][0] if night_base else None,
            ))
            day_items.append(_day_items(rng, number, days, activities))
    created_days = RouteDay.objects.bulk_create(day_rows)
    RouteItem.objects.bulk_create(
        RouteItem(day_id=day.pk, time=dt.time(hour, minute), place=place, activity=activity, meals=meals)
        for day, items in zip(created_days, day_items, strict=True) for hour, minute, place, activity, meals in items
    )

    departures = []
    last_night = demo.inventory_last or (demo.today + dt.timedelta(days=365))
    for route, (_, days, night_bases, _, _) in zip(routes, plans, strict=True):
        weekday = rng.choice((0, 1, 2, 3, 0, 1, 2, 6))
        start = demo.today + dt.timedelta(days=7)
        start += dt.timedelta(days=(weekday - start.weekday()) % 7)
        seats = rng.choice(range(30, 61, 5))
        closures = [closure for base in set(night_bases) for closure in demo.closures.get(base.pk, [])]
        for week in range(26):
            date = start + dt.timedelta(weeks=week)
            if date + dt.timedelta(days=days - 2) > last_night:
                break
            if _overlaps(closures, date, date + dt.timedelta(days=days - 2)):
                continue
            departures.append(RouteDeparture(route_id=route.pk, date=date, seats=seats))
    demo.departures = RouteDeparture.objects.bulk_create(departures)
    demo.routes = routes
    return routes


def _day_items(rng: random.Random, number: int, days: int, activities: Iterator) -> list[tuple]:
    """(hour, minute, place, activity, meals) of one day of a route."""
    items = []
    if number == 1:
        items.append((9, 30, "基地大堂", "报到入住，发放疗休养手册，安全提示", ""))
        items.append((12, 0, "基地餐厅", "午餐（当地特色菜）", "午餐"))
        _, place, activity, _ = next(activities)
        items.append((14, 30, place, activity, ""))
    else:
        items.append((7, 30, "基地餐厅", "早餐", "早餐"))
        _, place, activity, _ = next(activities)
        items.append((8, 30, place, activity, ""))
        if number == days:
            items.append((11, 30, "基地餐厅", "午餐", "午餐"))
            items.append((13, 30, "基地大堂", "退房，合影留念，返程", ""))
            return items
        items.append((12, 0, f"{place}附近农家餐厅", "午餐", "午餐"))
        _, place, activity, _ = next(activities)
        items.append((14, 30, place, activity, ""))
    items.append((18, 0, "基地餐厅", "晚餐", "晚餐"))
    place, activity, _ = rng.choice(EVENINGS)
    items.append((19, 30, place, activity, ""))
    return items


# --- the whole thing --------------------------------------------------------------------

STEPS: list[Callable[[Demo], object]] = [
    build_unions,
    build_bases,
    build_users,
    build_certifications,
    build_inventory,
    build_routes,
]


def _activity_steps() -> list[Callable[[Demo], object]]:
    # Work in progress for every login (programmes, bookings, settlements, a planning round), on top of the network.
    from groups.demo import activity

    return activity.STEPS


STEPS += _activity_steps()


def existing_logins() -> list[Login]:
    """The demo logins as they are in the database (for a re-run that finds the data there)."""
    labels = {
        "admin": "省级管理员", "dg_admin": "市级管理员", "organiser": "企业工会组织者", "dg_organiser": "市总工会组织者",
        "operator": "基地运营人员", "fund": "市级经费管理员", "prov_fund": "省级经费管理员", "root": "超级用户（/admin/）· 省级管理员",
    }
    memberships = Membership.objects.filter(user__username__in=labels).select_related("user", "organisation")
    found = {membership.user.username: membership.organisation.name for membership in memberships}
    return [Login(username, label, found[username]) for username, label in labels.items() if username in found]
