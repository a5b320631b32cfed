"""Which rooms of a base a planned group takes when its place is published. Pure: no ORM (only gettext).

The plan counts a base's beds and rooms as two totals; publishing has to turn a
group's (people, rooms) into rooms of real room types. Every bed a group takes
beyond its people is a bed the plan promised to someone else, so the choice is:

1. the hard needs first: accessible rooms, then the room mix asked for;
2. then exactly the rooms the group asked for (its organiser knows the gender
   split and the families), with as few beds as still sleep everybody: start
   from the smallest rooms and upgrade one room at a time by the smallest step;
3. only when that many rooms cannot sleep everybody, one more room at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class RoomOffer:
    """Rooms of one type free on every night of the stay."""

    room_type_id: int
    beds_per_room: int
    accessible: bool
    free: int


def allocate_rooms(
    *, people: int, rooms: int, offers: list[RoomOffer], accessible_rooms: int = 0, room_mix: dict[int, int] | None = None
) -> dict[int, int] | str:
    """Rooms taken per room type id, or why the group cannot be roomed (in the active language)."""
    taken = {offer.room_type_id: 0 for offer in offers}
    by_size = sorted(offers, key=lambda offer: (offer.beds_per_room, offer.room_type_id))

    def take(candidates: list[RoomOffer], wanted: int) -> int:
        """Up to ``wanted`` rooms from the candidates in order; how many are still missing."""
        for offer in candidates:
            count = max(min(offer.free - taken[offer.room_type_id], wanted), 0)
            taken[offer.room_type_id] += count
            wanted -= count
        return wanted

    # Accessible rooms: the biggest first, so they count for as many of the group's beds as they can.
    if take([offer for offer in reversed(by_size) if offer.accessible], accessible_rooms):
        return _("无障碍房不足 %(rooms)s 间") % {"rooms": accessible_rooms}
    for beds, count in sorted((room_mix or {}).items()):
        of_size = [offer for offer in by_size if offer.beds_per_room == beds]
        if take(of_size, max(count - sum(taken[offer.room_type_id] for offer in of_size), 0)):
            return _("%(beds)s床房不足 %(rooms)s 间") % {"beds": beds, "rooms": count}
    fixed = dict(taken)
    if sum(fixed.values()) > rooms:
        return _("无障碍房与房型需求无法同时满足")

    size = {offer.room_type_id: offer.beds_per_room for offer in offers}
    spare = {offer.room_type_id: offer.free - fixed[offer.room_type_id] for offer in offers}
    people_left = people - sum(size[pk] * count for pk, count in fixed.items())
    wanted = rooms - sum(fixed.values())
    while wanted <= sum(spare.values()):
        extra = _fewest_beds(wanted=wanted, people=people_left, spare=spare, size=size, order=[o.room_type_id for o in by_size])
        if extra is not None:
            return {pk: fixed[pk] + extra.get(pk, 0) for pk in fixed if fixed[pk] + extra.get(pk, 0)}
        wanted += 1
    free_rooms = sum(offer.free for offer in offers)
    if free_rooms < rooms:
        return _("空房不足：需 %(rooms)s 间，仅余 %(free)s 间") % {"rooms": rooms, "free": free_rooms}
    free_beds = sum(offer.beds_per_room * offer.free for offer in offers)
    return _("床位不足：空房只有 %(beds)s 张床，不够 %(people)s 人") % {"beds": free_beds, "people": people}


def _fewest_beds(*, wanted: int, people: int, spare: dict[int, int], size: dict[int, int], order: list[int]) -> dict[int, int] | None:
    """Exactly ``wanted`` rooms from ``spare`` sleeping at least ``people``, with few beds; None if they cannot."""
    counts = dict.fromkeys(order, 0)
    left = wanted
    for pk in order:  # the smallest rooms first
        counts[pk] = min(spare[pk], left)
        left -= counts[pk]
    if left:
        return None
    beds = sum(size[pk] * count for pk, count in counts.items())
    while beds < people:
        # Upgrade one room by the smallest step that is still possible.
        steps = [
            (size[bigger] - size[smaller], smaller, bigger)
            for smaller in order if counts[smaller]
            for bigger in order if size[bigger] > size[smaller] and counts[bigger] < spare[bigger]
        ]
        if not steps:
            return None
        step, smaller, bigger = min(steps)
        counts[smaller] -= 1
        counts[bigger] += 1
        beds += step
    return {pk: count for pk, count in counts.items() if count}
