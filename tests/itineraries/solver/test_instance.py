import json

import pytest

from itineraries.solver.instance import (Assignment, FormatError, Result, Unplaced, dumps_result,
                                         format_money, instance_from_dict, instance_to_dict, load_instance,
                                         loads_result, parse_money)

SMALL = "/work/shared/instances/small-s4.json"


@pytest.mark.parametrize("text, fen", [
    ("0.00", 0), ("0.10", 10), ("0.1", 10), ("12600.00", 1260000), ("12600.5", 1260050),
    ("1234567890123.99", 123456789012399), ("7", 700), ("-3.05", -305),
])
def test_money_is_parsed_exactly(text, fen):
    assert parse_money(text) == fen


@pytest.mark.parametrize("text", ["", "1.234", "1e3", "12,600.00", "¥5", "abc", "0.1.2"])
def test_malformed_money_is_rejected(text):
    with pytest.raises(FormatError):
        parse_money(text)


def test_money_is_not_a_float():
    with pytest.raises(FormatError):
        parse_money(0.1)  # type: ignore[arg-type]


def test_money_sums_without_float_drift():
    # ten times ¥0.10 is exactly ¥1.00, which float arithmetic gets wrong
    assert sum(parse_money("0.10") for _ in range(10)) == parse_money("1.00")
    assert format_money(sum(parse_money("0.10") for _ in range(10))) == "1.00"


@pytest.mark.parametrize("fen, text", [(0, "0.00"), (5, "0.05"), (1260050, "12600.50"), (-305, "-3.05")])
def test_money_formats_back(fen, text):
    assert format_money(fen) == text
    assert parse_money(format_money(fen)) == fen


def test_instance_round_trip_keeps_every_field():
    with open(SMALL, encoding="utf-8") as handle:
        raw = json.load(handle)
    instance = instance_from_dict(raw)
    assert instance_to_dict(instance) == raw
    assert instance_from_dict(instance_to_dict(instance)) == instance


def test_parsed_values_are_typed():
    instance = load_instance(SMALL)
    group = instance.groups[0]
    assert group.id == "G00001" and group.size == 49 and group.nights == 2
    assert group.options[0].subsidy_fen == 1274000
    assert str(group.earliest_arrival) == "2025-06-05"
    assert instance.bases[0].beds == 54 and instance.bases[0].rooms == 28


def test_wrong_format_is_rejected():
    with pytest.raises(FormatError):
        instance_from_dict({"format": "retreat-plan/2"})


DELETE = object()  # as `value` of _set: remove the item


def _set(path, value):
    """A change to the small instance: set (or, with `value` DELETE, remove) the item at `path`."""
    def change(raw):
        *parents, last = path
        for key in parents:
            raw = raw[key]
        if value is DELETE:
            del raw[last]
        else:
            raw[last] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set(["horizon", "last_night"], "2024-12-31"), "horizon: last_night 2024-12-31 is before first_night 2025-01-01"),
    (_set(["horizon"], DELETE), "instance: 'horizon' is missing"),
    (_set(["bases"], {}), "bases: expected a list"),
    (_set(["bases", 1, "id"], "B001"), "bases[1]: id 'B001' appears twice"),
    (_set(["bases", 0, "capacity", "beds"], -1), "base B001 beds: must be at least 0, got -1"),
    (_set(["funds", 0, "budget"], "-1.00"), "budget: must not be negative, got -1.00"),
    (_set(["funds", 0, "budget"], 100.5), "budget: money must be a decimal string"),
    (_set(["groups", 0, "size"], -4), "group G00001 size: must be at least 1, got -4"),
    (_set(["groups", 0, "size"], "49"), "group G00001 size: expected an integer"),
    (_set(["groups", 0, "nights"], 0), "group G00001 nights: must be at least 1, got 0"),
    (_set(["groups", 0, "rooms"], -1), "group G00001 rooms: must be at least 0"),
    (_set(["groups", 2, "size"], DELETE), "group G00003: 'size' is missing"),
    (_set(["groups", 0, "fund"], "NOFUND"), "group G00001: fund 'NOFUND' is not among the funds"),
    (_set(["groups", 0, "latest_arrival"], "2025-06-01"), "group G00001: latest_arrival 2025-06-01 is before earliest_arrival"),
    (_set(["groups", 0, "earliest_arrival"], "2025-13-45"), "group G00001 earliest_arrival: not an ISO date"),
    (_set(["groups", 0, "options"], "x"), "group G00001 options: expected a list"),
    (_set(["groups", 0, "options", 0], 7), "group G00001 option 1: expected an object"),
    (_set(["groups", 1, "options", 0, "base"], "NOPE"), "group G00002 option 1: base 'NOPE' is not among the bases"),
    (_set(["groups", 0, "options", 0, "score"], -1), "group G00001 option 1 score: must be at least 0"),
    (_set(["groups", 0, "options", 0, "subsidy"], "-5.00"), "group G00001 option 1 subsidy: must not be negative"),
    (_set(["groups", 1, "id"], "G00001"), "groups[1]: id 'G00001' appears twice"),
])
def test_a_malformed_instance_is_refused_saying_what_and_where(change, message):
    with open(SMALL, encoding="utf-8") as handle:
        raw = json.load(handle)
    change(raw)
    with pytest.raises(FormatError) as refused:
        instance_from_dict(raw)
    assert message in str(refused.value)


def test_result_round_trip():
    import datetime as dt
    result = Result(instance="x", status="FEASIBLE", objective=5, bound=7, wall_seconds=1.25,
                    assignments=[Assignment("G1", "B1", dt.date(2025, 4, 2))],
                    unplaced=[Unplaced("G2", "fund F1 has ¥1.00 left, option B1 needs ¥2.00")])
    assert loads_result(dumps_result(result)) == result
