"""The rooming list: who sleeps in which room. Pure, no database.

Rules: a room holds at most its beds; men and women never share a room unless
everyone in it is one family (a worker and the family members travelling with
them); a room type never has more rooms in use than were booked.
"""

import string
from collections import defaultdict
from dataclasses import dataclass

from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Occupant:
    participant_id: int
    name: str
    gender: str
    family_key: int | None  # the worker's participant id for a family travelling together, else None


@dataclass(frozen=True)
class BookedRooms:
    room_type_id: int
    room_type_name: str
    rooms: int
    beds_per_room: int


@dataclass(frozen=True)
class Placement:
    room_type_id: int
    room_label: str


@dataclass
class _Room:
    room_type_id: int
    label: str
    beds: int
    occupants: list[Occupant]

    @property
    def free_beds(self) -> int:
        return self.beds - len(self.occupants)


class RoomingImpossible(ValueError):
    pass


def room_label(type_index: int, room_number: int) -> str:
    letters = string.ascii_uppercase
    prefix = letters[type_index % 26] * (1 + type_index // 26)
    return f"{prefix}{room_number:02d}"


def family_key_of(*, participant_id: int, family_of_id: int | None, has_family: bool) -> int | None:
    if family_of_id is not None:
        return family_of_id
    return participant_id if has_family else None


def propose_rooming(*, occupants: list[Occupant], booked: list[BookedRooms]) -> dict[int, Placement]:
    """Families first (largest first, mixed gender allowed), then everyone else by gender, filling
    the largest rooms first. Raises ``RoomingImpossible`` saying who could not be placed."""
    rooms = [
        _Room(line.room_type_id, room_label(type_index, number), line.beds_per_room, [])
        for type_index, line in enumerate(booked)
        for number in range(1, line.rooms + 1)
    ]
    rooms.sort(key=lambda room: -room.beds)
    families: dict[int, list[Occupant]] = defaultdict(list)
    singles: dict[str, list[Occupant]] = defaultdict(list)
    for occupant in occupants:
        if occupant.family_key is not None:
            families[occupant.family_key].append(occupant)
        else:
            singles[occupant.gender].append(occupant)
    for key, members in list(families.items()):
        if len(members) == 1:  # a worker whose family is not travelling
            singles[members[0].gender].append(members[0])
            del families[key]

    unplaced: list[Occupant] = []
    for members in sorted(families.values(), key=lambda group: (-len(group), group[0].participant_id)):
        remaining = list(members)
        fitting = [room for room in rooms if not room.occupants and room.beds >= len(remaining)]
        if fitting:
            min(fitting, key=lambda room: room.beds).occupants.extend(remaining)
            continue
        for room in rooms:  # a family larger than any room spreads over empty rooms
            if remaining and not room.occupants:
                room.occupants.extend(remaining[: room.beds])
                remaining = remaining[room.beds :]
        unplaced.extend(remaining)

    for gender in sorted(singles):
        for occupant in sorted(singles[gender], key=lambda o: o.participant_id):
            room = next(
                (r for r in rooms if r.occupants and r.free_beds and _single_gender(r) == gender), None
            ) or next((r for r in rooms if not r.occupants), None)
            if room is None:
                unplaced.append(occupant)
            else:
                room.occupants.append(occupant)

    if unplaced:
        raise RoomingImpossible(
            _("所订房间不足以按性别分房，%(count)s 人无法安排：%(names)s") % {
                "count": len(unplaced), "names": _("、").join(o.name for o in unplaced),
            }
        )
    return {
        occupant.participant_id: Placement(room.room_type_id, room.label) for room in rooms for occupant in room.occupants
    }


def _single_gender(room: _Room) -> str | None:
    if any(o.family_key is not None for o in room.occupants):
        return None  # a family room takes nobody else
    genders = {o.gender for o in room.occupants}
    return genders.pop() if len(genders) == 1 else None


def rooming_problems(*, occupants: list[Occupant], placements: dict[int, Placement], booked: list[BookedRooms]) -> list[str]:
    """Everything wrong with an edited rooming list, each in words; empty when it is valid."""
    problems: list[str] = []
    by_type = {line.room_type_id: line for line in booked}
    rooms: dict[tuple[int, str], list[Occupant]] = defaultdict(list)
    for occupant in occupants:
        placement = placements.get(occupant.participant_id)
        if placement is None:
            problems.append(_("%(name)s 未分配房间") % {"name": occupant.name})
        elif placement.room_type_id not in by_type:
            problems.append(_("%(name)s 的房型未预订") % {"name": occupant.name})
        else:
            rooms[(placement.room_type_id, placement.room_label)].append(occupant)
    for (room_type_id, label), members in sorted(rooms.items()):
        line = by_type[room_type_id]
        if len(members) > line.beds_per_room:
            problems.append(_("%(room_type)s %(room)s 住 %(people)s 人，超过 %(beds)s 张床") % {
                "room_type": line.room_type_name, "room": label, "people": len(members), "beds": line.beds_per_room,
            })
        genders = {o.gender for o in members}
        family_keys = {o.family_key for o in members}
        if len(genders) > 1 and (len(family_keys) > 1 or None in family_keys):
            problems.append(_("%(room_type)s %(room)s 男女混住且非同一家庭") % {"room_type": line.room_type_name, "room": label})
    for line in booked:
        used = sum(1 for (room_type_id, _label) in rooms if room_type_id == line.room_type_id)
        if used > line.rooms:
            problems.append(_("%(room_type)s 使用 %(used)s 间，仅预订 %(booked)s 间") % {
                "room_type": line.room_type_name, "used": used, "booked": line.rooms,
            })
    return problems
