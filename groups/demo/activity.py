"""Work in progress for every demo login: fund programmes, batches and bookings in every state,
check-ins, settlements and an open planning round.

These steps come after ``build.STEPS``' network (unions, bases, inventory, routes,
users) and write everything through the project's services — ``groups.services``,
``groups.bookings``, ``groups.checkin``, ``billing.services``,
``itineraries.planning`` — acting as the people who would do it (the organiser of
each union, the staff of each base, the fund managers, the administrator), with
``now`` set to when it would have happened. So the inventory counters, the
programme balances and the audit trails come out exactly as the product would
leave them. Only the participants go in directly, with the encryption helpers of
``groups.identity`` (what the list import does, without building a spreadsheet).

Every date is relative to ``demo.today``. A stay needs nightly inventory, which
starts on the first of the month, so early in a month there is less history.

Each step draws from its own random stream, so the network's data is the same
with or without them.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import random
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from bases.models import Base, NightInventory, RoomType
from billing import services as billing
from billing.models import FundProgramme
from groups import bookings, checkin
from groups.access import Actor, actor_of
from groups.codes import group_code_for, personal_code_for
from groups.demo import geography as geo
from groups.demo import names
from groups.identity import encrypt_resident_id, mask_resident_id, resident_id_hash
from groups.models import Batch, Booking, Membership, Organisation, Participant
from groups.services import batch_create, rooming_propose, user_create
from itineraries import planning
from retreat.errors import ApplicationError

if TYPE_CHECKING:  # build imports this module for its STEPS
    from groups.demo.build import Demo

logger = logging.getLogger(__name__)
Role = Membership.Role
Category = Participant.Category
CITIES = ("441900", "440300", "440100")  # 东莞, 深圳, 广州: where the unions that travel are
CITY_PREFIX = {"441900": "dg", "440300": "sz", "440100": "gz"}
# Where Guangdong's migrant workers' IDs were issued: Hunan, Guangxi, Jiangxi, Henan, Sichuan, Hubei, Fujian counties.
HOMETOWNS = ("430524", "430482", "431121", "450881", "450921", "360731", "360735", "411524", "511321", "421127", "350583")
FACTORY_JOBS = ("装配工", "操作工", "质检员", "包装工", "仓管员", "叉车司机", "机修工", "电工", "焊工", "注塑工", "物料员",
                "生产线组长", "设备维护员", "物流配送员", "客服专员")
HOSPITAL_JOBS = ("护士", "护师", "主管护师", "检验技师", "药剂师", "住院医师", "护理员")
SCHOOL_JOBS = ("语文教师", "数学教师", "英语教师", "班主任", "体育教师", "后勤管理员")
UTILITY_JOBS = ("线路检修工", "抄表员", "公交驾驶员", "调度员", "投递员", "营业厅柜员", "供水管网巡查员")
SKILLED_JOBS = ("高级技师", "数控车工（高级工）", "模具钳工（技师）", "电气维修技师", "焊接技师", "工业机器人运维技师")
MANAGER_JOBS = ("车间主任", "班组长", "工会干事", "安全主任", "生产主管")
MODEL_TITLES = ("（省劳动模范）", "（市劳动模范）", "（全国五一劳动奖章获得者）", "（市五一劳动奖章获得者）")
EXTRAS = (("旅游大巴接送", "per_booking", (3800, 6800)), ("景区讲解服务", "per_booking", (400, 900)),
          ("团体意外险", "per_person", (10, 20)))
REJECT_REASONS = (
    "实到人数与核销记录不一致，请核对签到情况后重新提交",
    "附加项目“旅游大巴接送”未附发票及派车单，请补充后重新提交",
    "实住晚数与退房记录不符，请更正后重新提交",
)


def aware(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


@contextmanager
def quiet_after_commit():
    """Booking services send e-mails and serve waitlists after commit; a seed replaying history must not
    (no one should be mailed about last week, and the waitlists stay as built). Drop what was registered."""
    connection = transaction.get_connection()
    before = len(connection.run_on_commit)
    try:
        yield
    finally:
        del connection.run_on_commit[before:]


# --- people -------------------------------------------------------------------------------


@dataclass
class Person:
    name: str
    number: str
    birth_date: dt.date
    gender: str
    phone: str
    employer: str
    job_title: str
    category: str
    family_of: int | None = None  # index of the worker in the same list


@dataclass
class Activity:
    """What the activity steps share (kept on ``demo.activity``)."""

    organisers: dict[int, Actor] = field(default_factory=dict)  # by union pk
    staff: dict[int, Actor] = field(default_factory=dict)  # by operator pk
    numbers: set[str] = field(default_factory=set)  # resident IDs used, to keep them unique
    programmes: dict[str, FundProgramme] = field(default_factory=dict)
    stays: list[tuple[str, Booking]] = field(default_factory=list)  # (plan label, booking) for settlements
    key_enterprises: list[Organisation] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # what a service refused, for the record
    user_seq: dict[str, int] = field(default_factory=lambda: defaultdict(int))


def refused(act: Activity, text: str) -> None:
    """A service said no: the seed carries on without that piece and says so."""
    act.refused.append(text)
    logger.warning("seed_demo: %s", text)


def _activity(demo: Demo) -> Activity:
    if getattr(demo, "activity", None) is None:
        demo.activity = Activity()
    return demo.activity


def employer_of(union: Organisation) -> str:
    for suffix in ("工会委员会", "工会"):
        if union.name.endswith(suffix):
            return union.name[: -len(suffix)]
    return union.name


def _jobs(employer: str) -> tuple[tuple[str, ...], float]:
    """Front-line job titles and the share of women for an employer."""
    if "医院" in employer:
        return HOSPITAL_JOBS, 0.75
    if "中学" in employer:
        return SCHOOL_JOBS, 0.6
    if any(word in employer for word in ("供电", "自来水", "公共交通", "邮政", "地铁")):
        return UTILITY_JOBS, 0.35
    return FACTORY_JOBS, 0.5


def make_people(rng: random.Random, act: Activity, *, today: dt.date, union: Organisation, size: int,
                family: bool = True, model_workers: bool = False, employers: list[str] | None = None) -> list[Person]:
    """``size`` people of a union's batch: mostly front-line workers, some model workers and skilled
    technicians, a manager or two, and (if allowed) a few family members travelling with a worker."""
    employer = employer_of(union)
    jobs, women = _jobs(employer)
    families = min(rng.choice((0, 1, 1, 2, 3)), size // 12) if family else 0
    workers = size - families
    if model_workers:
        categories = [Category.MODEL_WORKER] * (workers - workers // 6) + [Category.SKILLED] * (workers // 6)
    else:
        # At most about a quarter are not front-line, so a 60 % front-line rule always holds.
        model = rng.randint(0, 1) + workers // 25
        skilled = max(1, round(workers * rng.uniform(0.05, 0.12)))
        managers = 1 + (workers > 35)
        others = rng.randint(0, 2) if workers > 30 else 0
        categories = [Category.MODEL_WORKER] * model + [Category.SKILLED] * skilled + [Category.MANAGER] * managers
        categories += [Category.OTHER] * others
        categories += [Category.FRONT_LINE] * (workers - len(categories))
    rng.shuffle(categories)
    city = union.division_code[:4] + "00"
    local = [county.code for county in geo.CITY_BY_CODE[city].counties] if city in geo.CITY_BY_CODE else []
    local = local or [city]
    local_share = 0.8 if jobs is not FACTORY_JOBS else 0.35
    people: list[Person] = []
    for category in categories:
        gender = "F" if rng.random() < women else "M"
        born = today - dt.timedelta(days=rng.randint(22 * 365, 57 * 365))
        place = rng.choice(local) if rng.random() < local_share else rng.choice(HOMETOWNS)
        if category == Category.SKILLED:
            title = rng.choice(SKILLED_JOBS)
        elif category == Category.MANAGER:
            title = rng.choice(MANAGER_JOBS)
        elif category == Category.MODEL_WORKER:
            title = (rng.choice(SKILLED_JOBS + MANAGER_JOBS[:2]) if rng.random() < 0.5 else rng.choice(jobs)) + rng.choice(MODEL_TITLES)
        else:
            title = rng.choice(jobs)
        people.append(Person(
            name=names.person_name(rng, gender), number=_unique_id(rng, act, place, born, gender), birth_date=born,
            gender=gender, phone=names.mobile(rng), employer=rng.choice(employers) if employers else employer,
            job_title=title[:60], category=category,
        ))
    adults = [i for i, person in enumerate(people) if (today - person.birth_date).days > 28 * 365]
    for worker in rng.sample(adults, min(families, len(adults))):
        partner = people[worker]
        gender = "F" if partner.gender == "M" else "M"
        if rng.random() < 0.7:  # spouse
            born = partner.birth_date + dt.timedelta(days=rng.randint(-5 * 365, 5 * 365))
        else:  # a child on school holiday
            born = today - dt.timedelta(days=rng.randint(8 * 365, 17 * 365))
            gender = rng.choice("MF")
        place = partner.number[:6]
        people.append(Person(
            name=partner.name[0] + names.person_name(rng, gender)[1:] if rng.random() < 0.3 else names.person_name(rng, gender),
            number=_unique_id(rng, act, place, born, gender), birth_date=born, gender=gender, phone=names.mobile(rng),
            employer=partner.employer, job_title="随行家属", category=Category.FAMILY, family_of=worker,
        ))
    return people


def _unique_id(rng: random.Random, act: Activity, place: str, born: dt.date, gender: str) -> str:
    while True:
        number = names.resident_id(rng, division_code=place, birth_date=born, gender=gender)
        if number not in act.numbers:
            act.numbers.add(number)
            return number


def rooms_needed(people: list[Person], beds: int = 2) -> int:
    """Rooms of ``beds`` beds: a worker shares with their family, everyone else with their own sex."""
    families = {person.family_of for person in people if person.family_of is not None}
    singles = [person for i, person in enumerate(people) if person.family_of is None and i not in families]
    family_rooms = sum(math.ceil((1 + sum(1 for p in people if p.family_of == worker)) / beds) for worker in families)
    men = sum(1 for person in singles if person.gender == "M")
    return family_rooms + math.ceil(men / beds) + math.ceil((len(singles) - men) / beds)


def add_participants(batch: Batch, people: list[Person]) -> list[Participant]:
    created = Participant.objects.bulk_create(
        Participant(
            batch=batch, name=person.name, id_encrypted=encrypt_resident_id(person.number),
            id_hash=resident_id_hash(person.number), id_masked=mask_resident_id(person.number),
            birth_date=person.birth_date, gender=person.gender, phone=person.phone, employer=person.employer,
            job_title=person.job_title, category=person.category,
        )
        for person in people
    )
    family = []
    for person, participant in zip(people, created, strict=True):
        if person.family_of is not None:
            participant.family_of_id = created[person.family_of].pk
            family.append(participant)
    Participant.objects.bulk_update(family, ["family_of"])
    return created


# --- who acts ---------------------------------------------------------------------------


def organiser_of(demo: Demo, rng: random.Random, union: Organisation) -> Actor:
    """The union's organiser: the demo login where there is one, else a colleague without a password."""
    act = _activity(demo)
    if union.pk not in act.organisers:
        for username in ("organiser", "dg_organiser"):
            user = demo.users.get(username)
            if user is not None and user.membership.organisation_id == union.pk:
                act.organisers[union.pk] = actor_of(user)
                return act.organisers[union.pk]
        prefix = CITY_PREFIX.get(union.division_code[:4] + "00", "gd")
        act.user_seq[prefix] += 1
        user = user_create(
            username=f"{prefix}_org{act.user_seq[prefix]:02d}", password=None, organisation=union, role=Role.ORGANISER,
            full_name=names.person_name(rng), email=f"{prefix}_org{act.user_seq[prefix]:02d}@retreat-demo.cn",
        )
        act.organisers[union.pk] = Actor(user_id=user.pk, organisation=union, role=Role.ORGANISER)
    return act.organisers[union.pk]


def staff_of(demo: Demo, rng: random.Random, operator: Organisation) -> Actor:
    """Front-desk staff of a base operator: the demo ``operator`` login for its own, else a colleague."""
    act = _activity(demo)
    if operator.pk not in act.staff:
        user = demo.users.get("operator")
        if user is not None and user.membership.organisation_id == operator.pk:
            act.staff[operator.pk] = actor_of(user)
        else:
            act.user_seq["staff"] += 1
            username = f"staff{act.user_seq['staff']:02d}"
            user = user_create(username=username, password=None, organisation=operator, role=Role.OPERATOR,
                               full_name=names.person_name(rng), email=f"{username}@retreat-demo.cn")
            act.staff[operator.pk] = Actor(user_id=user.pk, organisation=operator, role=Role.OPERATOR)
    return act.staff[operator.pk]


def _actor(demo: Demo, username: str) -> Actor:
    return actor_of(demo.user(username))


# --- fund programmes ----------------------------------------------------------------------


def build_programmes(demo: Demo) -> dict[str, FundProgramme]:
    """广东省总工会's flat subsidy at provincial bases (this year and next) and 东莞市总工会's 1:1 matching
    with full funding for two key enterprises, created by their fund managers."""
    rng = demo.rng("programmes")
    act = _activity(demo)
    year = demo.today.year
    created = aware(dt.date(year, 1, 1) + dt.timedelta(days=rng.randint(5, 20)), 10, 30)
    prov, fund = _actor(demo, "prov_fund"), _actor(demo, "fund")
    for key, programme_year, budget in (("province", year, "5000000.00"), ("province_next", year + 1, "6000000.00")):
        act.programmes[key] = billing.programme_create(
            actor=prov, union_id=demo.province.pk, now=created if programme_year == year else aware(demo.today - dt.timedelta(days=rng.randint(3, 12)), 15),
            terms=billing.ProgrammeTerms(
                name=f"{programme_year}年度省级职工疗休养基地定额补助", valid_from=dt.date(programme_year, 1, 1),
                valid_until=dt.date(programme_year, 12, 31), budget=Decimal(budget), order=10,
                contribution=FundProgramme.Contribution.FLAT_SUBSIDY, flat_amount_per_person_day=Decimal("100.00"),
                flat_once_per_year=True, base_levels=[Base.Level.PROVINCIAL],
            ),
        )
    dongguan = demo.cities["441900"]
    organiser_union = demo.user("organiser").membership.organisation_id
    candidates = [org for org in demo.enterprises if org.path.startswith(dongguan.path) and org.pk != organiser_union
                  and "有限公司" in org.name]
    act.key_enterprises = rng.sample(candidates, min(2, len(candidates)))
    act.programmes["dongguan"] = billing.programme_create(
        actor=fund, union_id=dongguan.pk, now=created + dt.timedelta(days=rng.randint(10, 30)),
        terms=billing.ProgrammeTerms(
            name=f"{year}年东莞市职工疗休养配套资助", valid_from=dt.date(year, 1, 1), valid_until=dt.date(year, 12, 31),
            budget=Decimal("2000000.00"), order=20, contribution=FundProgramme.Contribution.MATCHING,
            matching_ratio=Decimal("1"), matching_cap_per_head=Decimal("1000.00"), matching_total_cap=Decimal("1600000.00"),
            cap_per_person_day=Decimal("500.00"), cap_per_person_year=Decimal("3000.00"),
            fully_funded_union_ids=[org.pk for org in act.key_enterprises],
        ),
    )
    return act.programmes


# --- batches and bookings -----------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One batch's trip: who, where, when, and how far it got."""

    label: str
    city: str  # the union's city code, "own" for the organiser's union, "dg_city" for 东莞市总工会 itself, "visiting" for a union from another province
    state: str  # held, confirmed, checked_in, in_house, completed, cancelled, cancelled_hold, lapsed
    arrival: int  # days from today
    nights: int
    at_operator: bool = False  # at a base of the demo ``operator``
    size: tuple[int, int] = (24, 48)
    expires: tuple[int, int, int] | None = None  # held: (days from today, hour, minute)
    union: str = ""  # "key" for one of 东莞's fully funded enterprises


PLANS: tuple[Plan, ...] = (
    # Stays that are over: completed, settled later (see build_settlements).
    Plan("dg_settled_1", "441900", "completed", -20, 3),
    Plan("dg_settled_2", "441900", "completed", -18, 2, union="key"),
    Plan("dg_rejected", "own", "completed", -15, 3),
    Plan("dg_submitted_1", "441900", "completed", -12, 4),
    Plan("dg_submitted_2", "441900", "completed", -10, 3, at_operator=True),
    Plan("dg_submitted_3", "441900", "completed", -8, 2),
    Plan("dg_model", "dg_city", "completed", -14, 3, size=(20, 30)),
    Plan("prov_settled", "440300", "completed", -19, 3),
    Plan("prov_submitted", "440100", "completed", -13, 3),
    Plan("unsettled", "440300", "completed", -9, 2),
    # Staying now, or just left and not yet closed by the base.
    Plan("in_house_op", "440100", "in_house", -2, 3, at_operator=True),
    Plan("in_house_dg", "441900", "in_house", -1, 4),
    Plan("left_op", "441900", "checked_in", -3, 2, at_operator=True),
    Plan("in_house_sz", "440300", "in_house", -4, 5),
    # Arriving today and in the coming days.
    Plan("today_own", "own", "confirmed", 0, 3, at_operator=True),
    Plan("today_gz", "440100", "confirmed", 0, 2, at_operator=True),
    Plan("tomorrow_dg", "441900", "confirmed", 1, 3, at_operator=True),
    Plan("soon_sz", "440300", "confirmed", 2, 4, at_operator=True, size=(18, 30)),
    Plan("week_dg", "441900", "confirmed", 5, 3, at_operator=True),
    Plan("up_key", "441900", "confirmed", 6, 3, union="key"),
    Plan("up_own", "own", "confirmed", 10, 4),
    Plan("up_gz_1", "440100", "confirmed", 8, 3),
    Plan("up_sz_1", "440300", "confirmed", 13, 2),
    Plan("up_dg_1", "441900", "confirmed", 16, 3),
    Plan("up_dg_model", "dg_city", "confirmed", 21, 3, size=(20, 28)),
    Plan("up_gz_2", "440100", "confirmed", 27, 4),
    # Holds: two expire by tomorrow morning.
    Plan("hold_own", "own", "held", 12, 3, expires=(1, 9, 0)),
    Plan("hold_dg", "441900", "held", 20, 3, expires=(1, 11, 30)),
    Plan("hold_gz", "440100", "held", 18, 2, expires=(2, 12, 0)),
    Plan("hold_sz", "440300", "held", 25, 4, expires=(3, 17, 0)),
    # Given back.
    Plan("cancelled_own", "own", "cancelled", 9, 3),
    Plan("cancelled_sz", "440300", "cancelled_hold", 15, 2),
    Plan("lapsed_gz", "440100", "lapsed", 11, 3),
    # Groups from other provinces (外省来粤疗休养): one staying now, two coming.
    Plan("visit_in_house", "visiting", "in_house", -1, 4),
    Plan("visit_soon", "visiting", "confirmed", 4, 5),
    Plan("visit_later", "visiting", "confirmed", 17, 4),
)

BATCH_TITLES = {
    "front": ("{year}年度一线职工疗休养（第{n}批）", "{year}年一线职工{theme}疗休养", "{year}年度职工疗休养活动第{n}期"),
    "model": ("{year}年劳动模范和先进工作者疗休养", "{year}年度劳模工匠{theme}疗休养"),
}
PURPOSES = (
    "落实职工疗休养制度，组织一线职工赴{city}开展{theme}主题疗休养，缓解工作压力，增强职工获得感。",
    "表彰年度优秀员工，组织赴{city}{theme}疗休养，开展团队建设与健康讲座。",
    "按照市总工会职工疗休养工作要求，安排长期奋战在生产一线的职工分批疗休养。",
)


class Stays:
    """The booking step's working state: bases that fit, unions by city, titles used."""

    def __init__(self, demo: Demo, rng: random.Random):
        self.demo, self.rng, self.act = demo, rng, _activity(demo)
        self.today = demo.today
        self.first = demo.inventory_first or demo.today.replace(day=1)
        self.last = demo.inventory_last or demo.today
        operator = demo.user("operator").membership.organisation_id
        self.operator_bases = [base for base in demo.certified_bases if base.operator_id == operator]
        visiting = [base for base in demo.certified_bases if base.operator_id != operator]
        rng.shuffle(visiting)
        # Where PRD unions go: the hills, hot springs and coast outside the delta first.
        self.other_bases = sorted(visiting, key=lambda base: geo.CITY_BY_CODE[base.city_code].prd)
        self.unions = {city: [org for org in demo.enterprises if org.path.startswith(demo.cities[city].path)] for city in CITIES}
        for unions in self.unions.values():
            rng.shuffle(unions)
        self.union_turn = defaultdict(int)
        self.batch_count = defaultdict(int)

    def union_for(self, plan: Plan) -> Organisation:
        if plan.city == "own":
            return self.demo.user("organiser").membership.organisation
        if plan.city == "dg_city":
            return self.demo.cities["441900"]
        if plan.city == "visiting":
            self.union_turn["visiting"] += 1
            return self.demo.visiting_unions[(self.union_turn["visiting"] - 1) % len(self.demo.visiting_unions)]
        if plan.union == "key" and self.act.key_enterprises:
            self.union_turn["key"] += 1
            return self.act.key_enterprises[(self.union_turn["key"] - 1) % len(self.act.key_enterprises)]
        unions = [org for org in self.unions[plan.city] if org not in self.act.key_enterprises
                  and org.pk != self.demo.user("organiser").membership.organisation_id] or [self.demo.cities[plan.city]]
        turn = self.union_turn[plan.city]
        self.union_turn[plan.city] += 1
        # A few unions send several batches; most one.
        return unions[turn % max(1, min(len(unions), 7))]

    def twin(self, base: Base) -> RoomType | None:
        room_types = self.demo.room_types.get(base.pk) or []
        return room_types[0] if room_types and room_types[0].beds_per_room == 2 else None

    def free_rooms(self, room_type: RoomType, arrival: dt.date, nights: int) -> int:
        last = arrival + dt.timedelta(days=nights - 1)
        if arrival < self.first or last > self.last:
            return 0
        rows = list(NightInventory.objects.filter(room_type=room_type, night__range=(arrival, last))
                    .values_list("rooms", "rooms_held", "rooms_booked", "closed"))
        if len(rows) != nights or any(closed for *_, closed in rows):
            return 0
        return min(rooms - held - booked for rooms, held, booked, _ in rows)

    def place(self, plan: Plan, arrival: dt.date, size: int) -> tuple[Base, RoomType, int] | None:
        """A base, its twin rooms and the people that fit, for ``size`` wanted people."""
        candidates = self.operator_bases if plan.at_operator else self.other_bases
        if plan.at_operator:
            candidates = sorted(candidates, key=lambda base: -(self.twin(base).rooms if self.twin(base) else 0))
        else:
            start = self.rng.randrange(len(candidates)) if candidates else 0
            candidates = candidates[start:] + candidates[:start]
        for base in candidates:
            room_type = self.twin(base)
            if room_type is None or not base.is_bookable_on(arrival, arrival + dt.timedelta(days=plan.nights - 1)):
                continue
            free = self.free_rooms(room_type, arrival, plan.nights)
            fits = min(size, 2 * (free - 4))
            if fits >= 16:
                return base, room_type, fits
        return None

    def new_batch(self, plan: Plan, union: Organisation, organiser: Actor, *, arrival: dt.date | None, nights: int,
                  base: Base | None, model: bool, created: dt.datetime, year: int | None = None) -> Batch:
        self.batch_count[union.pk] += 1
        city = geo.CITY_BY_CODE[base.city_code].name if base else "省内基地"
        theme = self.rng.choice(("温泉康养", "红色教育", "生态康养", "客家文化", "乡村振兴", "滨海休闲"))
        year = year or (arrival or self.today).year
        title = self.rng.choice(BATCH_TITLES["model" if model else "front"]).format(
            year=year, n=names.cn_number(self.batch_count[union.pk]), theme=theme)
        if model:
            title = title.replace("劳动模范", f"{union.name[:-3]}劳动模范") if union.kind == Organisation.Kind.CITY else title
        switches = {}
        if not model and self.rng.random() < 0.5:
            switches = {"min_front_line_percent": 60, "no_repeat_years": 3, "max_stay_days": max(5, nights + 1)}
        with transaction.atomic():
            batch = batch_create(
                actor=organiser, title=title, purpose=self.rng.choice(PURPOSES).format(city=city, theme=theme),
                arrival=None, nights=nights, family_allowed=not model, **switches,
            )
        # history: the batch was made on `created`, when its arrival (maybe past today) still lay ahead
        Batch.objects.filter(pk=batch.pk).update(created_at=created, arrival=arrival)
        batch.arrival = arrival
        return batch


def _dongguan_employers(demo: Demo, rng: random.Random) -> list[str]:
    dongguan = demo.cities["441900"]
    return [employer_of(org) for org in rng.sample(
        [org for org in demo.enterprises if org.path.startswith(dongguan.path)],
        min(12, sum(1 for org in demo.enterprises if org.path.startswith(dongguan.path))),
    )]


def build_bookings(demo: Demo) -> list[Booking]:
    """Batches with real-name lists and their bookings in every state, check-ins with no-shows, a waitlist."""
    rng = demo.rng("bookings")
    stays = Stays(demo, rng)
    made: list[Booking] = []
    with quiet_after_commit():
        for plan in PLANS:
            booking = _one_plan(demo, rng, stays, plan)
            if booking is not None:
                made.append(booking)
        made.extend(_waitlist(demo, rng, stays))
    return made


def _one_plan(demo: Demo, rng: random.Random, stays: Stays, plan: Plan) -> Booking | None:
    act, today = stays.act, stays.today
    arrival = today + dt.timedelta(days=plan.arrival)
    if arrival < stays.first:  # before the inventory starts (early in a month)
        return None
    union = stays.union_for(plan)
    organiser = organiser_of(demo, rng, union)
    model = plan.city == "dg_city"
    wanted = rng.randint(*plan.size)
    placed = stays.place(plan, arrival, wanted)
    if placed is None:
        refused(act, f"{plan.label}: 没有可用基地 (no base with rooms on {arrival})")
        return None
    base, room_type, size = placed
    # The organiser started weeks ahead: batch, list, hold, rooming, confirm. Holds are from the last few days.
    if plan.state in ("held", "lapsed", "cancelled_hold"):
        start = today - dt.timedelta(days=rng.randint(2, 5))
    elif plan.state == "cancelled":
        start = today - dt.timedelta(days=rng.randint(8, 20))
    else:
        start = min(arrival - dt.timedelta(days=rng.randint(12, 40)), today - dt.timedelta(days=rng.randint(1, 20)))
    created = aware(start, rng.randint(9, 11), rng.choice((0, 10, 25, 40)))
    batch = stays.new_batch(plan, union, organiser, arrival=arrival, nights=plan.nights, base=base, model=model, created=created)
    people = make_people(rng, act, today=today, union=union, size=size, family=not model, model_workers=model,
                         employers=_dongguan_employers(demo, rng) if model else None)
    rooms = rooms_needed(people)
    participants = add_participants(batch, people)

    hold_at = created + dt.timedelta(hours=rng.randint(1, 5))
    minutes = bookings.HOLD_MINUTES
    if plan.state == "held":  # held yesterday afternoon, extended by the base until the date agreed
        day, hour, minute = plan.expires
        hold_at = aware(today - dt.timedelta(days=1), rng.randint(14, 17), rng.choice((5, 20, 45)))
        minutes = int((aware(today + dt.timedelta(days=day), hour, minute) - hold_at).total_seconds() // 60)
    try:
        booking = bookings.booking_hold(
            actor=organiser, batch_id=batch.pk, base_id=base.pk, arrival=arrival, nights=plan.nights,
            rooms=[bookings.RoomRequest(room_type.pk, rooms, len(people))], now=hold_at, hold_minutes=minutes,
        )
    except ApplicationError as error:
        refused(act, f"{plan.label}: booking_hold {error}")
        return None
    if plan.state == "held":
        return booking
    if plan.state == "lapsed":
        bookings.hold_lapse(booking_id=booking.pk, now=booking.hold_expires_at + dt.timedelta(minutes=1))
        return booking
    if plan.state == "cancelled_hold":
        return bookings.booking_cancel(actor=organiser, booking_id=booking.pk, reason="行程调整，暂不出行",
                                       now=hold_at + dt.timedelta(minutes=rng.randint(5, 25)))
    try:
        with transaction.atomic():
            rooming_propose(actor=organiser, batch_id=batch.pk)
    except ApplicationError as error:
        refused(act, f"{plan.label}: rooming_propose {error}")
    confirm_at = hold_at + dt.timedelta(minutes=rng.randint(6, 25))
    try:
        booking = bookings.booking_confirm(actor=organiser, booking_id=booking.pk, now=confirm_at)  # commits the funding too
    except ApplicationError as error:
        refused(act, f"{plan.label}: booking_confirm {error}")
        return booking
    if plan.state == "cancelled":
        cancel_at = max(aware(today - dt.timedelta(days=rng.randint(1, 3)), rng.randint(9, 16), rng.choice((0, 30))),
                        confirm_at + dt.timedelta(days=1))
        booking = bookings.booking_cancel(actor=organiser, booking_id=booking.pk, now=cancel_at,
                                          reason="受生产订单影响，本批次职工无法按期出行，取消预订")
        billing.funding_release_for_booking(booking=booking, actor=organiser, now=cancel_at)
        return booking
    if plan.state == "confirmed":
        return booking
    _check_in(demo, rng, stays, booking, participants, plan)
    booking.refresh_from_db()
    act.stays.append((plan.label, booking))
    return booking


def _check_in(demo: Demo, rng: random.Random, stays: Stays, booking: Booking, participants: list[Participant], plan: Plan) -> None:
    """Scan the group code on arrival; latecomers by their own code; a few never come; close finished stays."""
    staff = staff_of(demo, rng, booking.base.operator)
    no_shows = set(rng.sample([p.pk for p in participants], rng.choice((0, 1, 1, 2, 3))))
    came = [p for p in participants if p.pk not in no_shows]
    late = came[len(came) - rng.randint(1, 2):] if len(came) > 4 and rng.random() < 0.6 else []
    on_time = [p.pk for p in came if p not in late]
    arrived_at = aware(booking.arrival, rng.randint(14, 16), rng.randint(0, 59))
    checkin.check_in_by_code(actor=staff, code=group_code_for(booking), participant_ids=on_time, base_id=booking.base_id,
                             now=arrived_at)
    for person in late:
        if booking.nights > 1 and rng.random() < 0.5:
            moment = aware(booking.arrival + dt.timedelta(days=1), 8, rng.randint(0, 45))
            if moment.date() >= stays.today:
                moment = arrived_at + dt.timedelta(hours=4)
        else:
            moment = arrived_at + dt.timedelta(hours=rng.randint(3, 5), minutes=rng.randint(0, 59))
        checkin.check_in_by_code(actor=staff, code=personal_code_for(booking, person), base_id=booking.base_id, now=moment)
    if plan.state == "completed":
        checkin.booking_complete(actor=staff, reference=booking.reference,
                                 now=aware(booking.last_night + dt.timedelta(days=1), 12, rng.randint(10, 50)))


def _waitlist(demo: Demo, rng: random.Random, stays: Stays) -> list[Booking]:
    """A small base sold out for a week-end: one big group has it, two more batches wait for rooms."""
    act, today = stays.act, stays.today
    arrival = today + dt.timedelta(days=15 + (4 - (today + dt.timedelta(days=15)).weekday()) % 7)  # a Friday
    small = sorted(
        (base for base in stays.other_bases if stays.twin(base) and 10 <= stays.twin(base).rooms <= 25
         and base.is_bookable_on(arrival, arrival + dt.timedelta(days=1))),
        key=lambda base: (stays.twin(base).rooms, base.pk),
    )
    for base in small:
        room_type = stays.twin(base)
        if stays.free_rooms(room_type, arrival, 2) == room_type.rooms:
            break
    else:
        refused(act, "waitlist: 没有合适的小型基地 (no small base free for the week-end)")
        return []
    made = []
    # The group that got it: as many people as the twin rooms take, two rooms to spare.
    plan = Plan("full_house", "441900", "confirmed", (arrival - today).days, 2)
    union = stays.union_for(plan)
    organiser = organiser_of(demo, rng, union)
    created = aware(today - dt.timedelta(days=rng.randint(10, 20)), 10, 15)
    batch = stays.new_batch(plan, union, organiser, arrival=arrival, nights=2, base=base, model=False, created=created)
    people = make_people(rng, act, today=today, union=union, size=2 * (room_type.rooms - 3), family=False)
    participants = add_participants(batch, people)
    rooms = rooms_needed(people)
    if rooms > room_type.rooms:
        refused(act, "waitlist: 名单房间数超出 (the list needs more rooms than the base has)")
        return []
    booking = bookings.booking_hold(actor=organiser, batch_id=batch.pk, base_id=base.pk, arrival=arrival, nights=2,
                                    rooms=[bookings.RoomRequest(room_type.pk, rooms, len(participants))], now=created)
    with transaction.atomic():
        rooming_propose(actor=organiser, batch_id=batch.pk)
    booking = bookings.booking_confirm(actor=organiser, booking_id=booking.pk, now=created + dt.timedelta(minutes=12))
    made.append(booking)
    left = room_type.rooms - rooms
    for city, days_ago in (("own", 6), ("440100", 2)):
        plan = Plan(f"waiting_{city}", city, "waiting", (arrival - today).days, 2)
        union = stays.union_for(plan)
        organiser = organiser_of(demo, rng, union)
        joined = aware(today - dt.timedelta(days=days_ago), rng.randint(9, 17), rng.choice((5, 35)))
        batch = stays.new_batch(plan, union, organiser, arrival=arrival, nights=2, base=base, model=False, created=joined)
        size = rng.randint(max(2 * left + 2, 18), max(2 * left + 2, 18) + 12)
        people = make_people(rng, act, today=today, union=union, size=size, family=False)
        add_participants(batch, people)
        try:
            bookings.waitlist_join(actor=organiser, batch_id=batch.pk, base_id=base.pk, room_type_id=room_type.pk,
                                   arrival=arrival, nights=2, rooms=rooms_needed(people), people=len(people), now=joined)
        except ApplicationError as error:
            refused(act, f"waitlist_join: {error}")
    return made


# --- settlements --------------------------------------------------------------------------


def build_settlements(demo: Demo) -> list:
    """The bases' actuals of finished stays: submitted (the fund managers' queues), approved, rejected."""
    rng = demo.rng("settlements")
    act = _activity(demo)
    today = demo.today
    fund, prov_fund = _actor(demo, "fund"), _actor(demo, "prov_fund")
    done = []
    with quiet_after_commit():
        for label, booking in act.stays:
            if booking.status != Booking.Status.COMPLETED or label in ("unsettled", "dg_model"):
                continue
            staff = staff_of(demo, rng, booking.base.operator)
            came = list(booking.check_ins.order_by("participant_id").values_list("participant_id", flat=True))
            early = set(rng.sample(came, 1)) if booking.nights > 2 and rng.random() < 0.4 else set()
            arrivals = [billing.ArrivalActual(participant_id=pk, nights=booking.nights - (pk in early)) for pk in came]
            extras = []
            for name, basis, (low, high) in EXTRAS:
                if basis == "per_booking" and rng.random() < 0.3 and name != "旅游大巴接送":
                    continue
                extras.append(billing.ExtraActual(name=name, amount=Decimal(rng.randint(low, high) // 10 * 10 if high > 100 else rng.randint(low, high)),
                                                  basis=basis))
            submitted_on = min(booking.last_night + dt.timedelta(days=rng.randint(2, 3)), today - dt.timedelta(days=1))
            submitted_at = aware(submitted_on, rng.randint(9, 16), rng.randint(0, 59))
            try:
                settlement = billing.settlement_submit(actor=staff, booking_id=booking.pk, arrivals=arrivals, extras=extras,
                                                       now=submitted_at)
            except ApplicationError as error:
                refused(act, f"{label}: settlement_submit {error}")
                continue
            decider = fund if label.startswith("dg_") else prov_fund
            decided_at = aware(min(submitted_on + dt.timedelta(days=rng.randint(1, 3)), today - dt.timedelta(days=1)),
                               rng.randint(9, 17), rng.randint(0, 59))
            decided_at = max(decided_at, submitted_at + dt.timedelta(hours=2))
            try:
                if label.endswith("settled") or label.startswith("dg_settled"):
                    settlement = billing.settlement_approve(actor=decider, settlement_id=settlement.pk, now=decided_at)
                elif label == "dg_rejected":
                    settlement = billing.settlement_reject(actor=decider, settlement_id=settlement.pk,
                                                           reason=rng.choice(REJECT_REASONS), now=decided_at)
            except ApplicationError as error:
                refused(act, f"{label}: settlement decision {error}")
            done.append(settlement)
    return done


# --- planning -----------------------------------------------------------------------------


def spring_of(today: dt.date) -> tuple[dt.date, dt.date]:
    """The coming spring's retreat season: March and April (this year's until the end of January)."""
    year = today.year if today.month < 2 else today.year + 1
    return dt.date(year, 3, 1), dt.date(year, 4, 30)


def build_planning_round(demo: Demo):
    """Next spring's round, open, with ~40 requests from 东莞, 深圳 and 广州 unions ranking bases; not solved."""
    rng = demo.rng("planning")
    act = _activity(demo)
    today = demo.today
    first, last = spring_of(today)
    admin = _actor(demo, "admin")
    bases = [base for base in demo.certified_bases if base.is_bookable_on(first, last)
             and (demo.room_types.get(base.pk) or [None])[0] is not None and demo.room_types[base.pk][0].rooms >= 20]
    rng.shuffle(bases)
    bases = sorted(bases[:24], key=lambda base: base.pk)
    if not bases:
        refused(act, "planning: 没有认证覆盖春季的基地 (no base certified through spring)")
        return None
    programmes = [p.pk for p in act.programmes.values() if p.valid_from <= first and last <= p.valid_until]
    with quiet_after_commit():
        planning_round = planning.round_create(
            actor=admin, name=f"{first.year}年春季珠三角职工疗休养统筹", first_night=first, last_night=last,
            union_ids=[demo.cities[city].pk for city in CITIES], base_ids=[base.pk for base in bases],
            programme_ids=programmes,
            settings=planning.RoundSettings(regional_balance=planning.PlanningRound.RegionalBalance.MAXIMIN,
                                            rural_weight=10, off_season_weight=5, time_limit_seconds=20, seed=demo.config.seed),
        )
        planning.round_open(actor=admin, round_id=planning_round.pk)
        # The popular bases: hot springs and the biggest; most unions rank a couple of them first.
        popular = sorted(bases, key=lambda base: (base.kind != Base.Kind.HOT_SPRING, -demo.room_types[base.pk][0].rooms))[:6]
        stays = Stays(demo, rng)
        counts = {"441900": 18, "440300": 12, "440100": 10}
        for city, count in counts.items():
            unions = stays.unions[city][:]
            rng.shuffle(unions)
            for number in range(count):
                union = unions[number % len(unions)] if unions else demo.cities[city]
                organiser = organiser_of(demo, rng, union)
                nights = rng.choice((2, 3, 3, 4))
                earliest = first + dt.timedelta(days=rng.randint(0, 45))
                latest = min(earliest + dt.timedelta(days=rng.choice((7, 10, 14, 21))), last - dt.timedelta(days=nights - 1))
                model = rng.random() < 0.12
                submitted = aware(today - dt.timedelta(days=rng.randint(0, 9)), rng.randint(9, 17), rng.randint(0, 59))
                plan = Plan("planning", city, "planned", (earliest - today).days, nights)
                batch = stays.new_batch(plan, union, organiser, arrival=None, nights=nights, base=None, model=model,
                                        created=submitted - dt.timedelta(hours=rng.randint(1, 30)), year=first.year)
                people = make_people(rng, act, today=today, union=union, size=rng.randint(18, 52), family=not model,
                                     model_workers=model)
                add_participants(batch, people)
                ranked = rng.sample(popular, min(len(popular), rng.randint(1, 2)))
                ranked += rng.sample([base for base in bases if base not in ranked], min(rng.randint(1, 3), len(bases) - len(ranked)))
                preferences = [{"base": base.pk} for base in ranked]
                if rng.random() < 0.3:
                    preferences.append({"city": rng.choice(ranked).city_code})
                # A little slack on rooms: the base's free rooms may be of mixed sizes by the time the plan is published.
                rooms = min(len(people), rooms_needed(people) + max(1, rooms_needed(people) // 8))
                try:
                    planning.request_submit(
                        actor=organiser, round_id=planning_round.pk, now=submitted,
                        terms=planning.RequestTerms(
                            batch_id=batch.pk, people=len(people), rooms=rooms, nights=nights, earliest_arrival=earliest,
                            latest_arrival=latest, preferences=preferences, priority=3 if model else rng.choice((0, 0, 0, 1, 2)),
                            accessible_rooms=1 if rng.random() < 0.15 else 0,
                        ),
                    )
                except ApplicationError as error:
                    refused(act, f"planning request: {error}")
    return planning_round


STEPS = [build_programmes, build_bookings, build_settlements, build_planning_round]

