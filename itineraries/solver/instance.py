"""Typed model of the `retreat-plan/1` instance and `retreat-plan-result/1` result.

Money is held as integer fen, parsed from the decimal strings exactly; dates are
`datetime.date`. Nothing here knows about solving.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

INSTANCE_FORMAT = "retreat-plan/1"
RESULT_FORMAT = "retreat-plan-result/1"

_MONEY = re.compile(r"^(-?)(\d+)(?:\.(\d{1,2}))?$")


class FormatError(ValueError):
    """The JSON does not follow the exchange format."""


def parse_money(text: str) -> int:
    """'12600.5' -> 1260050 fen, exactly (no float on the way)."""
    if not isinstance(text, str):
        raise FormatError(f"money must be a decimal string, got {text!r}")
    match = _MONEY.match(text.strip())
    if not match:
        raise FormatError(f"not a money amount: {text!r}")
    sign, yuan, cents = match.groups()
    fen = int(yuan) * 100 + int((cents or "0").ljust(2, "0"))
    return -fen if sign else fen


def format_money(fen: int) -> str:
    """1260050 -> '12600.50'."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def format_yuan(fen: int) -> str:
    """1234000 -> '¥12,340.00', for messages meant for people."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


@dataclass(frozen=True)
class Base:
    id: str
    name: str
    region: str
    beds: int | None  # None: the base does not limit this resource
    rooms: int | None
    closed_nights: frozenset[date]
    nightly_price_per_person_fen: int
    # optional `nightly_capacity` extension: night -> (beds, rooms) free that night, replacing
    # `beds`/`rooms` on the nights it lists (None for a resource the entry leaves out: the base
    # figure applies). None when the base has no such extension. Closed nights stay closed.
    nightly_capacity: dict[date, tuple[int | None, int | None]] | None = field(default=None, hash=False)

    def _on(self, night: date, resource: int, default: int | None) -> int | None:
        figures = self.nightly_capacity.get(night) if self.nightly_capacity else None
        return default if figures is None or figures[resource] is None else figures[resource]

    def beds_on(self, night: date) -> int | None:
        """Beds the base offers on `night` (None: unlimited)."""
        return self._on(night, 0, self.beds)

    def rooms_on(self, night: date) -> int | None:
        """Rooms the base offers on `night` (None: unlimited)."""
        return self._on(night, 1, self.rooms)


@dataclass(frozen=True)
class Fund:
    id: str
    name: str
    budget_fen: int


@dataclass(frozen=True)
class Option:
    base: str
    score: int
    subsidy_fen: int


@dataclass(frozen=True)
class Group:
    id: str
    union: str
    region: str
    size: int
    rooms: int
    nights: int
    earliest_arrival: date
    latest_arrival: date
    fund: str
    options: tuple[Option, ...]


@dataclass(frozen=True)
class Instance:
    name: str
    first_night: date
    last_night: date
    bases: tuple[Base, ...]
    funds: tuple[Fund, ...]
    groups: tuple[Group, ...]
    # optional `region_minimums` extension: region -> people of that region's groups a plan should
    # place at least (a round's minimum share per city). A plan first keeps the people short of
    # these minimums as few as it can, then scores as much as it can.
    region_minimums: dict[str, int] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, order=True)
class Assignment:
    group: str
    base: str
    arrival: date


@dataclass(frozen=True)
class Unplaced:
    group: str
    reason: str


@dataclass
class Result:
    instance: str
    status: str  # OPTIMAL | FEASIBLE | INFEASIBLE | UNKNOWN
    objective: int
    bound: int | None
    wall_seconds: float
    assignments: list[Assignment]
    unplaced: list[Unplaced] = field(default_factory=list)
    # with `region_minimums`: people short of each region's minimum (short regions only)
    shortfall: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------- parsing

def _date(text: Any, what: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"{what}: not an ISO date: {text!r}") from exc


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FormatError(f"{what}: expected an integer, got {value!r}")
    return value


def _field(raw: Any, key: str, what: str) -> Any:
    if not isinstance(raw, dict):
        raise FormatError(f"{what}: expected an object, got {raw!r}")
    if key not in raw:
        raise FormatError(f"{what}: '{key}' is missing")
    return raw[key]


def _list(value: Any, what: str) -> list:
    if not isinstance(value, list):
        raise FormatError(f"{what}: expected a list, got {value!r}")
    return value


def _count(value: Any, what: str, least: int = 0) -> int:
    """An integer of at least `least`."""
    if _int(value, what) < least:
        raise FormatError(f"{what}: must be at least {least}, got {value}")
    return value


def _amount(text: Any, what: str) -> int:
    """A money amount that may not be negative, in fen."""
    try:
        fen = parse_money(text)
    except FormatError as error:
        raise FormatError(f"{what}: {error}") from None
    if fen < 0:
        raise FormatError(f"{what}: must not be negative, got {text}")
    return fen


def _unique_id(raw: Any, what: str, seen: set[str]) -> str:
    ident = _field(raw, "id", what)
    if not isinstance(ident, str) or not ident:
        raise FormatError(f"{what}: id must be a non-empty string, got {ident!r}")
    if ident in seen:
        raise FormatError(f"{what}: id {ident!r} appears twice")
    seen.add(ident)
    return ident


def _nightly_capacity(raw: Any, base_id: str) -> dict[date, tuple[int | None, int | None]] | None:
    """The `nightly_capacity` extension of a base: {"YYYY-MM-DD": {"beds": n, "rooms": m}}."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise FormatError(f"base {base_id} nightly_capacity: expected an object, got {raw!r}")
    out = {}
    for night, figures in raw.items():
        what = f"base {base_id} nightly_capacity {night}"
        if not isinstance(figures, dict):
            raise FormatError(f"{what}: expected an object, got {figures!r}")
        beds = None if "beds" not in figures else _count(figures["beds"], f"{what} beds")
        rooms = None if "rooms" not in figures else _count(figures["rooms"], f"{what} rooms")
        out[_date(night, what)] = (beds, rooms)
    return out


def _region_minimums(raw: Any, regions: set[str]) -> dict[str, int]:
    """The `region_minimums` extension: {"441900": people, ...}, each region one of the groups'."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise FormatError(f"region_minimums: expected an object, got {raw!r}")
    for region in raw:
        if region not in regions:
            raise FormatError(f"region_minimums {region}: no group has this region")
    return {region: _count(people, f"region_minimums {region}") for region, people in raw.items()}


def instance_from_dict(data: dict[str, Any]) -> Instance:
    """The instance, or a FormatError that says what is wrong and where (the first problem found)."""
    if not isinstance(data, dict) or data.get("format") != INSTANCE_FORMAT:
        found = data.get("format") if isinstance(data, dict) else data
        raise FormatError(f"format must be {INSTANCE_FORMAT!r}, got {found!r}")
    horizon = _field(data, "horizon", "instance")
    first_night = _date(_field(horizon, "first_night", "horizon"), "horizon first_night")
    last_night = _date(_field(horizon, "last_night", "horizon"), "horizon last_night")
    if last_night < first_night:
        raise FormatError(f"horizon: last_night {last_night} is before first_night {first_night}")

    bases, base_ids = [], set()
    for index, raw in enumerate(_list(_field(data, "bases", "instance"), "bases")):
        bid = _unique_id(raw, f"bases[{index}]", base_ids)
        what = f"base {bid}"
        capacity = raw.get("capacity", {})
        if not isinstance(capacity, dict):
            raise FormatError(f"{what} capacity: expected an object, got {capacity!r}")
        beds = None if "beds" not in capacity else _count(capacity["beds"], f"{what} beds")
        rooms = None if "rooms" not in capacity else _count(capacity["rooms"], f"{what} rooms")
        bases.append(Base(
            id=bid, name=raw.get("name", ""), region=raw.get("region", ""), beds=beds, rooms=rooms,
            closed_nights=frozenset(_date(d, f"{what} closed night")
                                    for d in _list(raw.get("closed_nights", []), f"{what} closed_nights")),
            nightly_price_per_person_fen=_amount(raw.get("nightly_price_per_person", "0.00"),
                                                 f"{what} nightly_price_per_person"),
            nightly_capacity=_nightly_capacity(raw.get("nightly_capacity"), bid),
        ))

    funds, fund_ids = [], set()
    for index, raw in enumerate(_list(_field(data, "funds", "instance"), "funds")):
        fid = _unique_id(raw, f"funds[{index}]", fund_ids)
        funds.append(Fund(id=fid, name=raw.get("name", ""),
                          budget_fen=_amount(_field(raw, "budget", f"fund {fid}"), f"fund {fid} budget")))

    groups, group_ids = [], set()
    for index, raw in enumerate(_list(_field(data, "groups", "instance"), "groups")):
        gid = _unique_id(raw, f"groups[{index}]", group_ids)
        what = f"group {gid}"
        fund = _field(raw, "fund", what)
        if fund not in fund_ids:
            raise FormatError(f"{what}: fund {fund!r} is not among the funds")
        options = []
        for number, option in enumerate(_list(_field(raw, "options", what), f"{what} options"), start=1):
            where = f"{what} option {number}"
            base = _field(option, "base", where)
            if base not in base_ids:
                raise FormatError(f"{where}: base {base!r} is not among the bases")
            score = _count(_field(option, "score", where), f"{where} score")
            options.append(Option(base=base, score=score,
                                  subsidy_fen=_amount(_field(option, "subsidy", where), f"{where} subsidy")))
        earliest = _date(_field(raw, "earliest_arrival", what), f"{what} earliest_arrival")
        latest = _date(_field(raw, "latest_arrival", what), f"{what} latest_arrival")
        if latest < earliest:
            raise FormatError(f"{what}: latest_arrival {latest} is before earliest_arrival {earliest}")
        groups.append(Group(
            id=gid, union=raw.get("union", ""), region=raw.get("region", ""),
            size=_count(_field(raw, "size", what), f"{what} size", least=1),
            rooms=_count(raw.get("rooms", 0), f"{what} rooms"),
            nights=_count(_field(raw, "nights", what), f"{what} nights", least=1),
            earliest_arrival=earliest, latest_arrival=latest, fund=fund, options=tuple(options),
        ))
    return Instance(name=data.get("name", ""), first_night=first_night, last_night=last_night,
                    bases=tuple(bases), funds=tuple(funds), groups=tuple(groups),
                    region_minimums=_region_minimums(data.get("region_minimums"), {g.region for g in groups}))


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    def capacity(base: Base) -> dict[str, int]:
        out = {}
        if base.beds is not None:
            out["beds"] = base.beds
        if base.rooms is not None:
            out["rooms"] = base.rooms
        return out

    def base(b: Base) -> dict[str, Any]:
        out = {"id": b.id, "name": b.name, "region": b.region, "capacity": capacity(b),
               "closed_nights": sorted(d.isoformat() for d in b.closed_nights),
               "nightly_price_per_person": format_money(b.nightly_price_per_person_fen)}
        if b.nightly_capacity is not None:
            out["nightly_capacity"] = {
                night.isoformat(): {key: value for key, value in (("beds", beds), ("rooms", rooms)) if value is not None}
                for night, (beds, rooms) in sorted(b.nightly_capacity.items())}
        return out

    out = {
        "format": INSTANCE_FORMAT,
        "name": instance.name,
        "horizon": {"first_night": instance.first_night.isoformat(), "last_night": instance.last_night.isoformat()},
        "bases": [base(b) for b in instance.bases],
        "funds": [{"id": f.id, "name": f.name, "budget": format_money(f.budget_fen)} for f in instance.funds],
        "groups": [{"id": g.id, "union": g.union, "region": g.region, "size": g.size, "rooms": g.rooms,
                    "nights": g.nights, "earliest_arrival": g.earliest_arrival.isoformat(),
                    "latest_arrival": g.latest_arrival.isoformat(), "fund": g.fund,
                    "options": [{"base": o.base, "score": o.score, "subsidy": format_money(o.subsidy_fen)}
                                for o in g.options]}
                   for g in instance.groups],
    }
    if instance.region_minimums:
        out["region_minimums"] = dict(sorted(instance.region_minimums.items()))
    return out


def result_from_dict(data: dict[str, Any]) -> Result:
    if data.get("format") != RESULT_FORMAT:
        raise FormatError(f"format must be {RESULT_FORMAT!r}, got {data.get('format')!r}")
    return Result(
        instance=data.get("instance", ""), status=data["status"], objective=_int(data["objective"], "objective"),
        bound=None if data.get("bound") is None else _int(data["bound"], "bound"),
        wall_seconds=float(data.get("wall_seconds", 0.0)),
        assignments=[Assignment(a["group"], a["base"], _date(a["arrival"], f"arrival of {a['group']}"))
                     for a in data.get("assignments", [])],
        unplaced=[Unplaced(u["group"], u["reason"]) for u in data.get("unplaced", [])],
        shortfall={region: _count(people, f"shortfall {region}", least=1)
                   for region, people in data.get("shortfall", {}).items()},
    )


def result_to_dict(result: Result) -> dict[str, Any]:
    out: dict[str, Any] = {
        "format": RESULT_FORMAT, "instance": result.instance, "status": result.status,
        "objective": result.objective,
    }
    if result.bound is not None:
        out["bound"] = result.bound
    out["wall_seconds"] = round(result.wall_seconds, 3)
    out["assignments"] = [{"group": a.group, "base": a.base, "arrival": a.arrival.isoformat()}
                          for a in result.assignments]
    out["unplaced"] = [{"group": u.group, "reason": u.reason} for u in result.unplaced]
    if result.shortfall:
        out["shortfall"] = dict(sorted(result.shortfall.items()))
    return out


def load_instance(path: str) -> Instance:
    with open(path, encoding="utf-8") as handle:
        return instance_from_dict(json.load(handle))


def loads_instance(text: str) -> Instance:
    return instance_from_dict(json.loads(text))


def dumps_instance(instance: Instance) -> str:
    return json.dumps(instance_to_dict(instance), ensure_ascii=False, indent=1)


def loads_result(text: str) -> Result:
    return result_from_dict(json.loads(text))


def dumps_result(result: Result) -> str:
    return json.dumps(result_to_dict(result), ensure_ascii=False, indent=1)
