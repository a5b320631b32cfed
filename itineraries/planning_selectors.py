"""Reads for planning rounds, always scoped to the actor.

Administrators see the rounds their union (or one under it) runs. Organisers and
fund managers see the open-or-later rounds a union of theirs takes part in, and
only their own sub-tree's requests. Anything else is not found.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from groups.access import Actor, union_subtree_q
from groups.models import Batch, Organisation
from itineraries.models import PlanningRequest, PlanningRound, SolveRun
from retreat.errors import Forbidden, NotFound

CITY_NAMES = {
    "440100": "广州", "440200": "韶关", "440300": "深圳", "440400": "珠海", "440500": "汕头", "440600": "佛山",
    "440700": "江门", "440800": "湛江", "440900": "茂名", "441200": "肇庆", "441300": "惠州", "441400": "梅州",
    "441500": "汕尾", "441600": "河源", "441700": "阳江", "441800": "清远", "441900": "东莞", "442000": "中山",
    "445100": "潮州", "445200": "揭阳", "445300": "云浮",
}


def round_list(*, actor: Actor) -> QuerySet[PlanningRound]:
    if actor.is_admin:
        return PlanningRound.objects.filter(organiser__path__startswith=actor.organisation.path)
    if not actor.organisation.is_union:
        return PlanningRound.objects.none()
    chain = [*actor.organisation.ancestor_ids(), actor.organisation.pk]
    taking_part = PlanningRound.objects.filter(
        Q(unions__pk__in=chain) | Q(unions__path__startswith=actor.organisation.path)
    ).exclude(status=PlanningRound.Status.DRAFT)
    return PlanningRound.objects.filter(pk__in=taking_part.values("pk"))


def round_get(*, actor: Actor, round_id: int) -> PlanningRound:
    planning_round = round_list(actor=actor).select_related("organiser").filter(pk=round_id).first()
    if planning_round is None:
        raise NotFound(_("统筹轮次不存在"), detail={"round_id": round_id})
    return planning_round


def round_for_admin(*, actor: Actor, round_id: int) -> PlanningRound:
    planning_round = round_get(actor=actor, round_id=round_id)
    if not actor.is_admin:
        raise Forbidden(_("只有管理员可以管理统筹轮次"))
    return planning_round


def request_list(*, actor: Actor, round_id: int, status: str | None = None) -> QuerySet[PlanningRequest]:
    planning_round = round_get(actor=actor, round_id=round_id)
    requests = planning_round.requests.select_related("batch", "union", "proposed_base", "booking")
    if not actor.is_admin:
        requests = requests.filter(union_subtree_q(actor, "union"))
    if status:
        requests = requests.filter(status=status)
    return requests.order_by("pk")


def request_status_counts(requests: QuerySet[PlanningRequest]) -> list[tuple[str, str, int]]:
    """(status, its label, how many) for every status some of ``requests`` (a ``request_list``) have."""
    counts = dict(requests.order_by().values_list("status").annotate(n=Count("pk")))
    return [(value, label, counts[value]) for value, label in PlanningRequest.Status.choices if counts.get(value)]


def request_get(*, actor: Actor, request_id: int) -> PlanningRequest:
    request = (
        PlanningRequest.objects.select_related("round", "batch", "union", "proposed_base", "booking")
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise NotFound(_("统筹需求不存在"), detail={"request_id": request_id})
    round_get(actor=actor, round_id=request.round_id)
    if not actor.is_admin and not Organisation.objects.filter(union_subtree_q(actor), pk=request.union_id).exists():
        raise NotFound(_("统筹需求不存在"), detail={"request_id": request_id})
    return request


def batches_to_request(*, actor: Actor, planning_round: PlanningRound) -> QuerySet[Batch]:
    """The actor's batches that could still be put into the round."""
    taken = planning_round.requests.exclude(status=PlanningRequest.Status.WITHDRAWN).values("batch_id")
    return Batch.objects.filter(union_subtree_q(actor, "union")).exclude(pk__in=taken).select_related("union")


def solve_run_list(*, actor: Actor, round_id: int) -> QuerySet[SolveRun]:
    planning_round = round_get(actor=actor, round_id=round_id)
    return planning_round.solve_runs.all()


def solve_run_latest(*, actor: Actor, round_id: int) -> SolveRun | None:
    return solve_run_list(actor=actor, round_id=round_id).first()


def solve_run_is_stale(run: SolveRun, *, now: dt.datetime, stale_after: dt.timedelta) -> bool:
    """A run nobody has heard from for ``stale_after`` is dead (its worker was lost)."""
    if run.status not in SolveRun.ACTIVE:
        return False
    last_sign = run.heartbeat_at or run.created_at
    return now - last_sign > stale_after


@dataclass(frozen=True)
class CityShare:
    city_code: str
    city_name: str
    requested_people: int
    placed_people: int
    minimum_people: int = 0  # the round's minimum share of what the city's standing requests ask for

    @property
    def share_percent(self) -> float:
        return round(100 * self.placed_people / self.requested_people, 1) if self.requested_people else 0.0

    @property
    def short_people(self) -> int:
        """People the plan leaves short of the city's minimum."""
        return max(0, self.minimum_people - self.placed_people)


def round_city_shares(*, planning_round: PlanningRound, requests: QuerySet[PlanningRequest]) -> list[CityShare]:
    """Requested and placed people per city of the requesting union among ``requests`` (a ``request_list``),
    and the round's minimum for it (of the requests a plan still places: declined ones are out), for the result page."""
    placed_statuses = {PlanningRequest.Status.PLACED, PlanningRequest.Status.ACCEPTED}
    requested: dict[str, int] = defaultdict(int)
    standing: dict[str, int] = defaultdict(int)
    placed: dict[str, int] = defaultdict(int)
    for request in requests.exclude(status=PlanningRequest.Status.WITHDRAWN):
        city = request.union.city_code
        requested[city] += request.people
        if request.status != PlanningRequest.Status.DECLINED:
            standing[city] += request.people
        if request.status in placed_statuses:
            placed[city] += request.people
    return [
        CityShare(city_code=city, city_name=CITY_NAMES.get(city, city), requested_people=people,
                  placed_people=placed[city], minimum_people=planning_round.city_minimum(standing[city]))
        for city, people in sorted(requested.items())
    ]
