"""A planning round read from the database into the `retreat-plan/1` problem.

Only this module turns rows into the exchange format; the solver never sees the
ORM. Identifiers in the problem are ``R<request id>``, ``B<base id>``,
``F<programme id>`` and ``U<union id>``, so a result maps straight back.

Capacity
    Each night a base offers its free rooms net of holds and bookings
    (``NightInventory.rooms - rooms_held - rooms_booked``, 0 when closed or
    without a row); free beds are free rooms × beds per room, summed over room
    types. A night the base is not certified for, or with nothing free, is
    closed. The exact figures of every open night travel in the base's
    ``nightly_capacity`` extension (``{"YYYY-MM-DD": {"beds": n, "rooms": m}}``),
    which the solver and its checker honour; the base's ``capacity`` is the
    largest of them. Fixed stays (a re-plan) give their own use back first.

Money
    A request draws on the first of the round's programmes (by order) that
    belongs to its union or one above it. An option's subsidy is that
    programme's share of the stay at the base's cheapest room type by the funding
    rules (``billing.funding.compute_split``), for the request's places as
    confirmation will count them (``billing.inputs.booked_people``): the batch's
    list in order up to ``people``, each with their category, family flag and
    earlier trips (the billing repeat look-up, at the earliest arrival), then
    ordinary members for the places not yet named. Places are priced once per
    kind (what the per-person rules look at) and the front-line share is checked
    over the whole request, so the figure is what confirming at that arrival would
    commit, before the balance, the yearly caps and any other programme; the real
    commitment is computed on confirmation. A fund's budget is the programme's
    available balance (net of commitments) less what published, not yet accepted
    plans have set aside.

Scores (points per person, times people; integers)
    preference rank k (0 = first): ``max(100 - 20k, 20)``; priority p: ``10p``;
    a rural base: the round's rural weight; off-season filling: the off-season
    weight × the share of the base's bed-nights still free in the period.
    Regional balance "maximin" scales a request's score by
    (people requested per city on average) / (people its city requested), so
    every city's demand weighs the same; "min_share" is no score but a minimum:
    each city's share of its requested people, rounded up, goes into the instance
    as `region_minimums`, and the solver places as many of those people as it can
    before it looks at scores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from django.db.models import Q

from bases.models import Base, NightInventory, RoomType, RouteDay
from billing.funding import (
    BaseFacts,
    BookingCost,
    CertificationLevel,
    ParticipantCost,
    ProgrammeRules,
    ProgrammeState,
    compute_split,
    to_fen,
)
from billing.funding.rules import FRONT_LINE, front_line_share_met
from billing.inputs import PlannedStay, earlier_trips_of_stays, programme_rules
from billing.ledger import committed_by_programme
from billing.models import FundProgramme
from groups.models import Booking, Organisation, Participant
from itineraries import planning_reasons as reasons
from itineraries.models import PlanningRequest, PlanningRound
from itineraries.solver import instance as plan_format

NO_FUND_ID = "F-none"
NO_FUND_NAME = "无专项经费"  # written into the exported planning file, which is Chinese
RANK_POINTS_FIRST = 100
RANK_POINTS_STEP = 20
RANK_POINTS_FLOOR = 20
PRIORITY_POINTS = 10
MAX_PRIORITY = 5
PLANNED_ROOM_TYPE = "planned"


@dataclass(frozen=True)
class NightFree:
    beds: int
    rooms: int
    accessible_rooms: int
    rooms_by_beds: dict[int, int]  # beds per room -> free rooms


@dataclass
class PlanningProblem:
    """The instance plus what the database knows beyond the exchange format."""

    instance: plan_format.Instance
    fixed: list[plan_format.Assignment]
    # group id -> why some of its preferences could not be offered, as planning_reasons clauses
    notes: dict[str, list[str]] = field(default_factory=dict)
    # group id -> (programme pk or None, {base id: subsidy fen})
    funding: dict[str, tuple[int | None, dict[str, int]]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        data = plan_format.instance_to_dict(self.instance)
        if self.fixed:
            data["fixed"] = [
                {"group": a.group, "base": a.base, "arrival": a.arrival.isoformat()} for a in self.fixed
            ]
        return data


def group_id(request_id: int) -> str:
    return f"R{request_id}"


def base_id(base_pk: int) -> str:
    return f"B{base_pk}"


def fund_id(programme_pk: int) -> str:
    return f"F{programme_pk}"


def request_pk(group: str) -> int:
    return int(group[1:])


def base_pk(base: str) -> int:
    return int(base[1:])


def nights_of(first: dt.date, count: int) -> list[dt.date]:
    return [first + dt.timedelta(days=offset) for offset in range(count)]


def fixed_requests(planning_round: PlanningRound) -> list[PlanningRequest]:
    """Requests whose place stands in a re-plan: accepted, or offered and still held."""
    return list(
        planning_round.requests.filter(
            Q(status=PlanningRequest.Status.ACCEPTED) | Q(status=PlanningRequest.Status.PLACED, booking__isnull=False),
            booking__status__in=Booking.ACTIVE,
        ).select_related("booking", "union")
    )


def requests_to_plan(planning_round: PlanningRound) -> list[PlanningRequest]:
    fixed_ids = {request.pk for request in fixed_requests(planning_round)}
    return [
        request
        for request in planning_round.requests.exclude(
            status__in=[PlanningRequest.Status.DECLINED, PlanningRequest.Status.WITHDRAWN]
        ).select_related("union", "batch").order_by("pk")
        if request.pk not in fixed_ids
    ]


def free_capacity(bases: list[Base], first: dt.date, last: dt.date) -> dict[int, dict[dt.date, NightFree]]:
    """Free rooms and beds per base and night, net of holds and bookings (one query)."""
    rows = NightInventory.objects.filter(
        room_type__base__in=bases, night__gte=first, night__lte=last, closed=False
    ).values_list(
        "room_type__base_id", "night", "rooms", "rooms_held", "rooms_booked", "room_type__beds_per_room", "room_type__accessible"
    )
    totals: dict[int, dict[dt.date, dict]] = defaultdict(dict)
    # A plain fetch: a server-side cursor (.iterator()) makes PostgreSQL plan for the first rows, 10x slower here.
    for base_pk, night, rooms, held, booked, beds_per_room, accessible in rows:
        free = rooms - held - booked
        if free <= 0:
            continue
        figures = totals[base_pk].setdefault(night, {"beds": 0, "rooms": 0, "accessible": 0, "by_beds": defaultdict(int)})
        figures["beds"] += free * beds_per_room
        figures["rooms"] += free
        figures["by_beds"][beds_per_room] += free
        if accessible:
            figures["accessible"] += free
    result: dict[int, dict[dt.date, NightFree]] = {}
    for base in bases:
        result[base.pk] = {
            night: NightFree(beds=figures["beds"], rooms=figures["rooms"], accessible_rooms=figures["accessible"],
                             rooms_by_beds=dict(figures["by_beds"]))
            for night, figures in sorted(totals[base.pk].items())
            if base.is_bookable_on(night, night)
        }
    return result


def _certification_level(base: Base) -> CertificationLevel:
    return CertificationLevel.CITY if base.level == Base.Level.CITY else CertificationLevel.PROVINCIAL


def subsidy_per_person_fen(
    *,
    rules: ProgrammeRules,
    union: Organisation,
    base: Base,
    room_type: RoomType,
    nights: int,
    arrival: dt.date,
    category: str = FRONT_LINE,
    earlier_trip: dt.date | None = None,
) -> int:
    """What the programme pays for one member staying ``nights`` at the base's cheapest room.

    ``earlier_trip`` is the member's latest earlier trip the no-repeat rule counts. The
    front-line share is a rule on the whole group: pass ``per_person_rules`` and check
    it with ``places_meet_front_line_share``.
    """
    cost = BookingCost(
        union_id=str(union.pk),
        union_ancestor_ids=tuple(str(pk) for pk in union.ancestor_ids() if pk != union.pk),
        base=BaseFacts(certification_level=_certification_level(base), county_code=base.county_code, city_code=base.city_code),
        arrival_date=arrival,
        nightly_price_per_person_fen={PLANNED_ROOM_TYPE: to_fen(room_type.price_per_night)},
        meals_per_person_day_fen=to_fen(room_type.meals_per_day),
    )
    member = ParticipantCost(
        person_key="planned-member", category=category, is_family=category == Participant.Category.FAMILY,
        room_type=PLANNED_ROOM_TYPE, nights=nights,
    )
    state = ProgrammeState(
        rules=rules, available_balance_fen=10**15,
        earlier_trip_by_person={member.person_key: earlier_trip} if earlier_trip else {},
    )
    split = compute_split(booking=cost, participants=[member], programmes=[state])
    return split.programmes_fen


def per_person_rules(rules: ProgrammeRules) -> ProgrammeRules:
    """The rules without the front-line share, which one member alone would pass or fail for the whole group."""
    return dataclasses.replace(rules, eligibility=dataclasses.replace(rules.eligibility, min_front_line_percent=None))


# A place of a request: (person key, category).
Place = tuple[str, str]


def batch_lists(batch_ids: list[int]) -> dict[int, list[Place]]:
    """Each batch's participants in list order, as (ID hash, category); one query."""
    lists: dict[int, list[Place]] = defaultdict(list)
    rows = Participant.objects.filter(batch_id__in=batch_ids).order_by("batch_id", "pk")
    for batch_id, id_hash, category in rows.values_list("batch_id", "id_hash", "category"):
        lists[batch_id].append((id_hash, category))
    return lists


def request_places(request: PlanningRequest, listed: Sequence[Place]) -> list[Place]:
    """The places as ``billing.inputs.booked_people`` counts them at confirmation: the list in order up to
    ``people``, then ordinary members (not front-line, not family) for the places not yet named."""
    places = list(listed[: request.people])
    places += [
        (f"request-{request.pk}-place-{index + 1}", Participant.Category.OTHER) for index in range(len(places), request.people)
    ]
    return places


def places_meet_front_line_share(rules: ProgrammeRules, places: Sequence[Place]) -> bool:
    """The programme's minimum front-line share, counted as ``billing.funding.split`` counts it: over the
    workers (family left out), a place not yet named being a worker who is not front-line."""
    workers = [category for _, category in places if category != Participant.Category.FAMILY]
    return front_line_share_met(rules.eligibility.min_front_line_percent,
                                front_line=workers.count(FRONT_LINE), workers=len(workers))


def place_kinds(
    rules: ProgrammeRules, places: Sequence[Place], earlier: Mapping[str, dt.date]
) -> tuple[Counter[tuple[str, bool]], dict[tuple[str, bool], dt.date]]:
    """The places counted by what the per-person rules look at, (category, found an earlier trip),
    and one repeater's trip per repeating kind.

    A worker's category matters only where the programme names categories; otherwise every
    worker is the one stand-in member, so the split is computed once per base, not per person.
    Family keep their own kind: they pay their own cost, so no programme pays for them.
    """
    named = rules.eligibility.participant_categories is not None
    kinds: Counter[tuple[str, bool]] = Counter()
    trips: dict[tuple[str, bool], dt.date] = {}
    for key, category in places:
        if not named and category != Participant.Category.FAMILY:
            category = FRONT_LINE
        trip = earlier.get(key)
        kind = (category, trip is not None)
        kinds[kind] += 1
        if trip is not None:
            trips.setdefault(kind, trip)
    return kinds, trips


def repeat_trips(
    requests: Sequence[PlanningRequest], paying: Mapping[int, FundProgramme | None], lists: Mapping[int, list[Place]]
) -> dict[int, dict[str, dt.date]]:
    """Per request whose programme has a no-repeat rule: ID hash -> the earlier trip that rule counts.

    Asked for one programme, the billing look-up returns only trips inside its window before the
    request's earliest arrival, so everyone found is left out by the rule. One query per programme.
    """
    by_programme: dict[int, list[PlanningRequest]] = defaultdict(list)
    programmes = {}
    for request in requests:
        programme = paying[request.pk]
        if programme is not None and programme.no_repeat_years:
            by_programme[programme.pk].append(request)
            programmes[programme.pk] = programme
    found: dict[int, dict[str, dt.date]] = {}
    for programme_pk, its_requests in by_programme.items():
        stays = {
            request.pk: PlannedStay(
                batch_id=request.batch_id, arrival=request.earliest_arrival,
                person_keys=[key for key, _ in lists.get(request.batch_id, [])[: request.people]],
            )
            for request in its_requests
        }
        for request_pk, trips in earlier_trips_of_stays(programmes=[programmes[programme_pk]], stays=stays).items():
            found[request_pk] = trips.get(programme_pk, {})
    return found


def paying_programme(programmes: list[FundProgramme], union: Organisation) -> FundProgramme | None:
    chain = set(union.ancestor_ids()) | {union.pk}
    return next((programme for programme in programmes if programme.union_id in chain), None)


def pending_plan_subsidies_fen(programme_ids: list[int], *, excluding_round: PlanningRound | None = None) -> dict[int, int]:
    """Subsidy set aside by published plans whose holds are not yet accepted, per programme."""
    pending = PlanningRequest.objects.filter(
        proposed_programme_id__in=programme_ids,
        status=PlanningRequest.Status.PLACED,
        booking__status=Booking.Status.HELD,
    )
    if excluding_round is not None:
        pending = pending.exclude(round=excluding_round)
    totals: dict[int, int] = defaultdict(int)
    for programme_id, subsidy in pending.values_list("proposed_programme_id", "proposed_subsidy"):
        totals[programme_id] += to_fen(subsidy)
    return totals


def preferred_bases(request: PlanningRequest, round_bases: dict[int, Base]) -> tuple[list[tuple[int, Base]], list[str]]:
    """(rank, base) for each base a request's preferences name, best rank first, and notes."""
    ranked: dict[int, int] = {}
    notes = []
    for rank, preference in enumerate(request.preferences):
        if "base" in preference:
            candidates = [preference["base"]]
            if preference["base"] not in round_bases:
                notes.append(reasons.base_not_in_round_clause(preference["base"]))
        elif "city" in preference:
            candidates = [pk for pk, base in round_bases.items() if base.city_code == preference["city"]]
            if not candidates:
                notes.append(reasons.no_base_in_region_clause(preference["city"]))
        else:
            candidates = list(
                RouteDay.objects.filter(route_id=preference["route"], night_base__isnull=False)
                .values_list("night_base_id", flat=True)
                .distinct()
            )
        for pk in candidates:
            if pk in round_bases:
                ranked.setdefault(pk, rank)
    return sorted(((rank, round_bases[pk]) for pk, rank in ranked.items()), key=lambda item: (item[0], item[1].pk)), notes


def needs_met_somewhere(request: PlanningRequest, nightly: dict[dt.date, NightFree]) -> bool:
    """Whether some arrival in the window has the accessible rooms and room mix free every night."""
    if not request.accessible_rooms and not request.room_mix:
        return True
    mix = {int(beds): int(count) for beds, count in request.room_mix.items()}
    arrival = request.earliest_arrival
    while arrival <= request.latest_arrival:
        stay = [nightly.get(night) for night in nights_of(arrival, request.nights)]
        if all(
            free is not None
            and free.accessible_rooms >= request.accessible_rooms
            and all(free.rooms_by_beds.get(beds, 0) >= count for beds, count in mix.items())
            for free in stay
        ):
            return True
        arrival += dt.timedelta(days=1)
    return False


def _why_base_unusable(request: PlanningRequest, base: Base, nightly: dict[dt.date, NightFree]) -> str | None:
    window_nights = nights_of(request.earliest_arrival, (request.latest_arrival - request.earliest_arrival).days + request.nights)
    if not any(base.is_bookable_on(night, night) for night in window_nights):
        return reasons.base_not_certified_clause(base.name)
    if not any(night in nightly for night in window_nights):
        return reasons.base_closed_or_full_clause(base.name)
    if not needs_met_somewhere(request, nightly):
        return reasons.base_lacks_rooms_clause(base.name, accessible_rooms=request.accessible_rooms, room_mix=request.room_mix)
    return None


def round_problem_build(*, planning_round: PlanningRound) -> PlanningProblem:
    """The round as a problem: requests still to place plus the fixed ones that stand."""
    first, last = planning_round.first_night, planning_round.last_night
    round_bases = {base.pk: base for base in planning_round.bases.prefetch_related("room_types").order_by("pk")}
    nightly_free = free_capacity(list(round_bases.values()), first, last)
    programmes = list(
        planning_round.programmes.order_by("order", "pk").select_related("union").prefetch_related("fully_funded_unions")
    )
    rules = {programme.pk: programme_rules(programme) for programme in programmes}
    fixed = fixed_requests(planning_round)
    to_plan = requests_to_plan(planning_round)

    # Fixed requests' own use goes back into the free figures: the solver keeps them in place.
    fixed_use: dict[int, dict[dt.date, tuple[int, int]]] = defaultdict(dict)
    for request in fixed:
        booking = request.booking
        for night in nights_of(booking.arrival, booking.nights):
            beds, rooms = fixed_use[booking.base_id].get(night, (0, 0))
            fixed_use[booking.base_id][night] = (beds + booking.people, rooms + booking.rooms)

    cheapest_room = {
        pk: min(base.room_types.all(), key=lambda room_type: (room_type.price_per_night, room_type.pk), default=None)
        for pk, base in round_bases.items()
    }
    bases_out = []
    period = nights_of(first, (last - first).days + 1)
    for pk, base in round_bases.items():
        free = {night: (f.beds, f.rooms) for night, f in nightly_free[pk].items()}
        for night, (beds, rooms) in fixed_use.get(pk, {}).items():
            free_beds, free_rooms = free.get(night, (0, 0))
            free[night] = (free_beds + beds, free_rooms + rooms)
        cheapest = cheapest_room[pk]
        bases_out.append(
            plan_format.Base(
                id=base_id(pk), name=base.name, region=base.city_code,
                beds=max((beds for beds, _ in free.values()), default=0), rooms=max((rooms for _, rooms in free.values()), default=0),
                closed_nights=frozenset(night for night in period if night not in free),
                nightly_price_per_person_fen=to_fen(cheapest.price_per_night) if cheapest else 0,
                nightly_capacity=dict(sorted(free.items())),
            )
        )

    pending = pending_plan_subsidies_fen([programme.pk for programme in programmes], excluding_round=planning_round)
    budget = {programme.pk: to_fen(programme.available) - pending.get(programme.pk, 0) for programme in programmes}
    ranked_bases = {request.pk: preferred_bases(request, round_bases) for request in to_plan + fixed}
    scores = _scores(planning_round, to_plan + fixed, ranked_bases, round_bases, nightly_free)
    groups, fixed_assignments, notes, funding = [], [], {}, {}

    for request in fixed:
        booking, programme = request.booking, request.proposed_programme_id
        if request.status == PlanningRequest.Status.ACCEPTED:
            # Confirmed: the ledger holds its commitment; give it back so the fixed group can draw it.
            subsidy = to_fen(committed_by_programme(booking_id=booking.pk).get(programme, Decimal("0")))
            if programme in budget:
                budget[programme] += subsidy
        else:
            subsidy = to_fen(request.proposed_subsidy or Decimal("0"))
        groups.append(_group(request, programme, [(booking.base_id, scores[(request.pk, booking.base_id)], subsidy)]))
        fixed_assignments.append(plan_format.Assignment(group_id(request.pk), base_id(booking.base_id), booking.arrival))
        funding[group_id(request.pk)] = (programme, {base_id(booking.base_id): subsidy})

    paying = {request.pk: paying_programme(programmes, request.union) for request in to_plan}
    lists = batch_lists([request.batch_id for request in to_plan if paying[request.pk] is not None])
    repeaters = repeat_trips(to_plan, paying, lists)
    per_person = {pk: per_person_rules(its_rules) for pk, its_rules in rules.items()}
    per_person_subsidy: dict[tuple, int] = {}
    for request in to_plan:
        ranked, request_notes = ranked_bases[request.pk]
        request_notes = list(request_notes)
        programme = paying[request.pk]
        share_met, kinds, kind_trips = False, Counter(), {}
        if programme is not None:
            places = request_places(request, lists.get(request.batch_id, []))
            share_met = places_meet_front_line_share(rules[programme.pk], places)
            kinds, kind_trips = place_kinds(rules[programme.pk], places, repeaters.get(request.pk, {}))
        options = []
        for _rank, base in ranked:
            why = _why_base_unusable(request, base, nightly_free[base.pk])
            if why:
                request_notes.append(why)
                continue
            subsidy = 0
            if programme is not None and cheapest_room[base.pk] is not None and share_met:
                # Beyond the kind, the arrival only decides whether the programme's period applies.
                in_period = programme.valid_from <= request.earliest_arrival <= programme.valid_until
                for kind, count in kinds.items():
                    key = (programme.pk, base.pk, request.union_id, request.nights, in_period, kind)
                    if key not in per_person_subsidy:
                        per_person_subsidy[key] = subsidy_per_person_fen(
                            rules=per_person[programme.pk], union=request.union, base=base, room_type=cheapest_room[base.pk],
                            nights=request.nights, arrival=request.earliest_arrival,
                            category=kind[0], earlier_trip=kind_trips.get(kind),
                        )
                    subsidy += count * per_person_subsidy[key]
            options.append((base.pk, scores[(request.pk, base.pk)], subsidy))
        programme_pk = programme.pk if programme else None
        groups.append(_group(request, programme_pk, options))
        funding[group_id(request.pk)] = (programme_pk, {base_id(pk): subsidy for pk, _, subsidy in options})
        if request_notes:
            notes[group_id(request.pk)] = request_notes

    funds = [
        plan_format.Fund(id=fund_id(programme.pk), name=programme.name, budget_fen=max(budget[programme.pk], 0))
        for programme in programmes
    ]
    funds.append(plan_format.Fund(id=NO_FUND_ID, name=NO_FUND_NAME, budget_fen=0))
    requested = Counter()
    for request in to_plan + fixed:
        requested[request.union.city_code] += request.people
    instance = plan_format.Instance(
        name=f"round-{planning_round.pk}", first_night=first, last_night=last,
        bases=tuple(bases_out), funds=tuple(funds), groups=tuple(groups),
        region_minimums={city: minimum for city, people in sorted(requested.items())
                         if (minimum := planning_round.city_minimum(people))},
    )
    return PlanningProblem(
        instance=instance, fixed=fixed_assignments, notes=notes, funding=funding
    )


def _group(request: PlanningRequest, programme_pk: int | None, options: list[tuple[int, int, int]]) -> plan_format.Group:
    if request.booking_id and request.status in (PlanningRequest.Status.ACCEPTED, PlanningRequest.Status.PLACED):
        earliest = latest = request.booking.arrival
    else:
        earliest, latest = request.earliest_arrival, request.latest_arrival
    return plan_format.Group(
        id=group_id(request.pk), union=f"U{request.union_id}", region=request.union.city_code,
        size=request.people, rooms=request.rooms, nights=request.nights,
        earliest_arrival=earliest, latest_arrival=latest,
        fund=fund_id(programme_pk) if programme_pk else NO_FUND_ID,
        options=tuple(plan_format.Option(base=base_id(pk), score=score, subsidy_fen=subsidy) for pk, score, subsidy in options),
    )


def _scores(
    planning_round: PlanningRound,
    requests: list[PlanningRequest],
    ranked_bases: dict[int, tuple[list[tuple[int, Base]], list[str]]],
    round_bases: dict[int, Base],
    nightly_free: dict[int, dict[dt.date, NightFree]],
) -> dict[tuple[int, int], int]:
    """Score of every (request, base) a request prefers; see the module docstring."""
    period_nights = (planning_round.last_night - planning_round.first_night).days + 1
    free_share = {}
    for pk in round_bases:
        nominal = sum(rt.rooms * rt.beds_per_room for rt in round_bases[pk].room_types.all()) * period_nights
        free_beds = sum(f.beds for f in nightly_free[pk].values())
        free_share[pk] = Fraction(free_beds, nominal) if nominal else Fraction(0)

    city_people: dict[str, int] = defaultdict(int)
    for request in requests:
        city_people[request.union.city_code] += request.people
    mean_city_people = Fraction(sum(city_people.values()), len(city_people)) if city_people else Fraction(1)

    scores = {}
    for request in requests:
        ranked = list(ranked_bases[request.pk][0])
        if request.booking_id and not any(base.pk == request.booking.base_id for _, base in ranked):
            ranked.append((len(request.preferences), round_bases.get(request.booking.base_id) or request.booking.base))
        for rank, base in ranked:
            per_person = Fraction(max(RANK_POINTS_FIRST - RANK_POINTS_STEP * rank, RANK_POINTS_FLOOR))
            per_person += PRIORITY_POINTS * request.priority
            if base.is_rural:
                per_person += planning_round.rural_weight
            per_person += planning_round.off_season_weight * free_share.get(base.pk, Fraction(0))
            score = per_person * request.people
            if planning_round.regional_balance == PlanningRound.RegionalBalance.MAXIMIN:
                score = score * mean_city_people / city_people[request.union.city_code]
            scores[(request.pk, base.pk)] = int(score)  # floor: scores are whole points
    return scores
