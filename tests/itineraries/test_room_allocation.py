"""Choosing a planned group's rooms on publishing (pure; no database)."""

import itertools

from hypothesis import given, settings, strategies as st

from itineraries.room_allocation import RoomOffer, allocate_rooms


def offers(*rows):
    return [RoomOffer(pk, beds, accessible, free) for pk, (beds, free, accessible) in enumerate(rows, start=1)]


def beds_of(taken, room_offers):
    size = {offer.room_type_id: offer.beds_per_room for offer in room_offers}
    return sum(size[pk] * count for pk, count in taken.items())


def test_exactly_the_rooms_asked_for_with_the_fewest_beds():
    room_offers = offers((2, 22, False), (4, 17, False))
    taken = allocate_rooms(people=27, rooms=15, offers=room_offers)
    assert sum(taken.values()) == 15
    assert beds_of(taken, room_offers) == 30  # 15 double rooms: no four-bed room wasted on them


def test_bigger_rooms_only_when_the_small_ones_cannot_sleep_everybody():
    room_offers = offers((2, 22, False), (4, 17, False))
    taken = allocate_rooms(people=40, rooms=12, offers=room_offers)
    assert sum(taken.values()) == 12 and beds_of(taken, room_offers) == 40  # 4 doubles and 8 family rooms


def test_one_more_room_when_the_rooms_asked_for_cannot_sleep_everybody():
    room_offers = offers((2, 10, False))
    assert allocate_rooms(people=9, rooms=4, offers=room_offers) == {1: 5}


def test_accessible_rooms_and_the_room_mix_come_first():
    room_offers = offers((2, 10, False), (2, 2, True), (4, 5, False))
    taken = allocate_rooms(people=12, rooms=5, offers=room_offers, accessible_rooms=1, room_mix={4: 1})
    assert taken[2] >= 1 and taken[3] >= 1 and sum(taken.values()) == 5 and beds_of(taken, room_offers) >= 12


def test_refusals_say_what_is_short():
    assert "无障碍房不足 1 间" in allocate_rooms(people=4, rooms=2, offers=offers((2, 5, False)), accessible_rooms=1)
    assert "4床房不足 2 间" in allocate_rooms(people=8, rooms=2, offers=offers((2, 5, False), (4, 1, False)), room_mix={4: 2})
    assert "仅余 3 间" in allocate_rooms(people=6, rooms=5, offers=offers((2, 3, False)))
    assert "只有 6 张床" in allocate_rooms(people=7, rooms=3, offers=offers((2, 3, False)))


def feasible_counts(room_offers, rooms):
    """Every way to take exactly ``rooms`` rooms (brute force)."""
    ranges = [range(min(offer.free, rooms) + 1) for offer in room_offers]
    for counts in itertools.product(*ranges):
        if sum(counts) == rooms:
            yield counts


room_rows = st.lists(st.tuples(st.integers(1, 4), st.integers(0, 6), st.booleans()), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None)
@given(rows=room_rows, people=st.integers(1, 30), rooms=st.integers(1, 10))
def test_against_brute_force(rows, people, rooms):
    room_offers = offers(*rows)
    taken = allocate_rooms(people=people, rooms=rooms, offers=room_offers)
    total_free = sum(offer.free for offer in room_offers)
    possible = [
        (count, counts)
        for count in range(rooms, total_free + 1)
        for counts in feasible_counts(room_offers, count)
        if sum(c * offer.beds_per_room for c, offer in zip(counts, room_offers)) >= people
    ]
    if not possible:
        assert isinstance(taken, str)
        return
    assert isinstance(taken, dict)
    for offer in room_offers:
        assert 0 <= taken.get(offer.room_type_id, 0) <= offer.free
    fewest_rooms = min(count for count, _ in possible)
    assert sum(taken.values()) == fewest_rooms  # the rooms asked for, or the fewest more that sleep everybody
    beds = beds_of(taken, room_offers)
    best = min(
        sum(c * offer.beds_per_room for c, offer in zip(counts, room_offers)) for count, counts in possible if count == fewest_rooms
    )
    assert people <= beds and beds - best < max(offer.beds_per_room for offer in room_offers)
