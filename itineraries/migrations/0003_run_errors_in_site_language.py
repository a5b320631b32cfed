"""The two errors the system writes on an abandoned solve run were stored bilingual ("… (worker
lost; run abandoned)"); they are now written once, in the site's language (``retreat.i18n``).
Old runs are rewritten the same way.

Self-contained on purpose: a migration must not change meaning when the app's code does.
"""

import re

from django.conf import settings
from django.db import migrations
from django.utils import translation

OLD_SILENT = re.compile(r"求解进程失联超过 (\d+) 秒，已作废 \(worker lost; run abandoned\)")
OLD_REDELIVERED = "求解进程中断后任务被重新投递，本次求解作废 (redelivered after a worker was lost; abandoned)"


def forwards(apps, schema_editor):
    SolveRun = apps.get_model("itineraries", "SolveRun")
    with translation.override(settings.LANGUAGE_CODE):
        silent = translation.gettext("求解进程失联超过 %(seconds)s 秒，本次求解作废")
        redelivered = translation.gettext("求解进程中断后任务被重新投递，本次求解作废")
    for run in SolveRun.objects.filter(error__endswith="abandoned)").only("pk", "error"):
        if match := OLD_SILENT.fullmatch(run.error):
            SolveRun.objects.filter(pk=run.pk).update(error=silent % {"seconds": match[1]})
        elif run.error == OLD_REDELIVERED:
            SolveRun.objects.filter(pk=run.pk).update(error=redelivered)


class Migration(migrations.Migration):
    dependencies = [("itineraries", "0002_neutral_unplaced_reasons")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
