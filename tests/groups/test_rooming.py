import pytest

from groups.rooming import BookedRooms, Occupant, Placement, RoomingImpossible, propose_rooming, rooming_problems

TWIN = BookedRooms(1, "标准双床房", rooms=3, beds_per_room=2)


def occupants():
    return [
        Occupant(1, "张三", "M", None), Occupant(2, "李四", "M", None), Occupant(3, "王芳", "F", None),
        Occupant(4, "赵强", "M", 4), Occupant(5, "赵强妻", "F", 4),
    ]


def test_proposal_keeps_genders_apart_except_families():
    placements = propose_rooming(occupants=occupants(), booked=[TWIN])
    rooms = {}
    for occupant in occupants():
        rooms.setdefault(placements[occupant.participant_id].room_label, []).append(occupant)
    assert len(rooms) == 3
    assert rooming_problems(occupants=occupants(), placements=placements, booked=[TWIN]) == []
    family_room = placements[4].room_label
    assert placements[5].room_label == family_room


def test_too_few_rooms_for_separate_genders_is_explained():
    with pytest.raises(RoomingImpossible, match="2 人无法安排：张三、李四"):
        propose_rooming(occupants=occupants(), booked=[BookedRooms(1, "标准双床房", rooms=2, beds_per_room=2)])


def test_edits_are_checked():
    group = occupants()
    mixed = {1: Placement(1, "A01"), 3: Placement(1, "A01"), 2: Placement(1, "A02"), 4: Placement(1, "A03"), 5: Placement(1, "A03")}
    problems = rooming_problems(occupants=group, placements=mixed, booked=[TWIN])
    assert any("男女混住" in p for p in problems)
    crowded = {1: Placement(1, "A01"), 2: Placement(1, "A01"), 3: Placement(1, "A02"), 4: Placement(1, "A01"), 5: Placement(1, "A03")}
    assert any("超过 2 张床" in p for p in rooming_problems(occupants=group, placements=crowded, booked=[TWIN]))
    too_many = {i: Placement(1, f"X{i}") for i in range(1, 6)}
    assert any("仅预订 3 间" in p for p in rooming_problems(occupants=group, placements=too_many, booked=[TWIN]))
