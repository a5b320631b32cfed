"""`manage.py plan export ROUND_ID` and `manage.py plan solve FILE`."""

import io
import json
import re

import pytest
from django.core.management import CommandError, call_command

from itineraries.solver.checker import check_result
from itineraries.solver.instance import instance_from_dict, result_from_dict
from tests.itineraries.planning.conftest import make_batch, submit


def test_export_then_solve_the_file(world, open_round, union_tree, users, organiser, tmp_path):
    for index in range(3):
        batch = make_batch(union=union_tree["factory"], user=users["factory_organiser"], title=f"团{index}", people=8)
        submit(actor=organiser, planning_round=open_round, batch=batch, people=8, rooms=4,
               preferences=[{"base": world["heyuan"].pk}, {"city": "440200"}])
    exported = io.StringIO()
    call_command("plan", "export", str(open_round.pk), stdout=exported)
    data = json.loads(exported.getvalue())
    assert data["format"] == "retreat-plan/1" and len(data["groups"]) == 3
    problem_file, result_file = tmp_path / "round.json", tmp_path / "result.json"
    problem_file.write_text(exported.getvalue(), encoding="utf-8")

    summary = io.StringIO()
    call_command("plan", "solve", str(problem_file), "--time-limit", "5", "--workers", "1", "--seed", "3",
                 "--out", str(result_file), stdout=summary)

    result = result_from_dict(json.loads(result_file.read_text(encoding="utf-8")))
    assert check_result(instance_from_dict(data), result) == []
    assert len(result.assignments) == 3
    assert "placed     3 of 3 groups" in summary.getvalue() and "checker    valid" in summary.getvalue()


def test_bad_arguments_are_errors_not_tracebacks(db, tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("plan", "export", "999999")
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("plan", "solve", str(broken))


SMALL = "/work/shared/instances/small-s4.json"


@pytest.mark.parametrize("arguments, message", [
    (["--time-limit", "-5"], "--time-limit: must be above 0, got -5"),
    (["--time-limit", "abc"], "--time-limit: not a number: 'abc'"),
    (["--workers", "0"], "--workers: must be above 0, got 0"),
])
def test_solve_refuses_limits_that_are_not_positive(arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("plan", "solve", SMALL, *arguments)


def test_solve_refuses_an_output_path_it_cannot_write_before_solving(tmp_path, monkeypatch):
    from itineraries import planning

    monkeypatch.setattr(planning, "solve_problem", lambda *args, **kwargs: pytest.fail("solved before checking --out"))
    with pytest.raises(CommandError, match="cannot write .*no-such-folder"):
        call_command("plan", "solve", SMALL, "--out", str(tmp_path / "no-such-folder" / "result.json"))


@pytest.mark.parametrize("fixed, message", [
    ([{"group": "G00001", "base": "NOPE", "arrival": "2025-06-05"}],
     "fixed assignments are infeasible: group G00001 placed at NOPE, which is not one of its options"),
    ([{"group": "G00001"}], "fixed[1]: expected an object with group, base and arrival"),
    ([{"group": "G00001", "base": "B001", "arrival": "June"}], "fixed[1]: arrival is not an ISO date: 'June'"),
    (5, "fixed: expected a list, got 5"),
])
def test_solve_refuses_fixed_assignments_it_cannot_keep_or_read(tmp_path, fixed, message):
    with open(SMALL, encoding="utf-8") as handle:
        data = json.load(handle)
    data["fixed"] = fixed
    path = tmp_path / "round.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("plan", "solve", str(path), "--time-limit", "1")


def test_solve_names_what_is_wrong_in_the_file_and_where(tmp_path):
    with open(SMALL, encoding="utf-8") as handle:
        data = json.load(handle)
    data["groups"][0]["nights"] = 0
    path = tmp_path / "round.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(CommandError, match=re.escape("group G00001 nights: must be at least 1, got 0")):
        call_command("plan", "solve", str(path))


def test_solve_says_how_many_people_the_region_minimums_leave_short(tmp_path):
    """small-s4 with a minimum above everything its 441900 groups ask for: the summary and the file say the shortfall."""
    with open(SMALL, encoding="utf-8") as handle:
        data = json.load(handle)
    region = data["groups"][0]["region"]
    asked = sum(group["size"] for group in data["groups"] if group["region"] == region)
    data["region_minimums"] = {region: asked + 5}
    path, out = tmp_path / "round.json", tmp_path / "result.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    summary = io.StringIO()

    call_command("plan", "solve", str(path), "--time-limit", "5", "--out", str(out), stdout=summary)

    result = result_from_dict(json.loads(out.read_text(encoding="utf-8")))
    assert result.shortfall[region] >= 5
    assert f"short      {result.shortfall[region]:,} people of the region minimums {region}" in summary.getvalue()
    assert check_result(instance_from_dict(data), result) == []
