"""Unplaced reasons stored bilingual ("中文 (clause)；…") become the language-neutral clauses
``itineraries.planning_reasons`` reads ("clause; …"), so they show in the reader's language.

Self-contained on purpose: a migration must not change meaning when the app's code does.
"""

import re

from django.db import migrations

CJK = re.compile(r"[\u3400-\u9fff]")
# The two notes whose old English left out what the new clauses carry.
OLD_NOT_IN_ROUND = re.compile(r"基地 #(\d+) 未参加本轮统筹 \(base not in this round\)")
OLD_LACKS_ROOMS = re.compile(r"(.+) 无法满足房型需求：(.+) \(base \1 lacks the required rooms\)")
OLD_NEEDS = [
    (re.compile(r"(\d+) 间无障碍房"), "{} accessible rooms"),
    (re.compile(r"(\d+) 间(\d+)床房"), "{} rooms of {} beds"),
]


def _old_need(need: str) -> str:
    for pattern, clause in OLD_NEEDS:
        match = pattern.fullmatch(need)
        if match:
            return clause.format(*match.groups())
    return need


def _clause(part: str) -> str:
    """The English clause of one "中文 (clause)" part; a part without one is kept as it is."""
    if match := OLD_NOT_IN_ROUND.fullmatch(part):
        return f"base #{match[1]} not in this round"
    if match := OLD_LACKS_ROOMS.fullmatch(part):
        return f"base {match[1]} lacks the required rooms: {', '.join(_old_need(need) for need in match[2].split('、'))}"
    if not part.endswith(")"):
        return part
    # The clause may hold parentheses of its own: find the one opening the final ")".
    depth = 0
    for index in range(len(part) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(part[index], 0)
        if depth == 0:
            chinese = part[:index]
            if chinese.endswith(" ") and CJK.search(chinese):
                return part[index + 1:-1]
            return part
    return part


def neutral_reason(old: str) -> str:
    return "; ".join(_clause(part) for part in old.split("；")) if old else old


def forwards(apps, schema_editor):
    PlanningRequest = apps.get_model("itineraries", "PlanningRequest")
    changed = []
    for request in PlanningRequest.objects.exclude(reason="").only("pk", "reason").iterator(chunk_size=2000):
        reason = neutral_reason(request.reason)
        if reason != request.reason:
            request.reason = reason
            changed.append(request)
    PlanningRequest.objects.bulk_update(changed, ["reason"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("itineraries", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
