"""`manage.py plan export ROUND_ID` and `manage.py plan solve FILE`."""

import io
import json

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
