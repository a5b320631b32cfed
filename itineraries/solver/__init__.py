"""Planning solver for retreat bookings: pure Python, no Django.

    from itineraries.solver import load_instance, solve, check_result
    result = solve(load_instance("year-s1.json"), time_limit=60, workers=2, seed=0)
    assert check_result(instance, result) == []
"""
from .checker import check_plan, check_result, plan_objective
from .engine import FixedAssignmentError, ProgressCallback, SearchStats, fcfs_result, solve
from .instance import (Assignment, Base, FormatError, Fund, Group, Instance, Option, Result, Unplaced,
                       dumps_instance, dumps_result, format_money, instance_from_dict, instance_to_dict,
                       load_instance, loads_instance, loads_result, parse_money, result_from_dict,
                       result_to_dict)

__all__ = [
    "Assignment", "Base", "FixedAssignmentError", "FormatError", "Fund", "Group", "Instance", "Option",
    "ProgressCallback", "Result", "SearchStats", "Unplaced", "check_plan", "check_result", "dumps_instance",
    "dumps_result", "fcfs_result", "format_money", "instance_from_dict", "instance_to_dict", "load_instance",
    "loads_instance", "loads_result", "parse_money", "plan_objective", "result_from_dict", "result_to_dict",
    "solve",
]
