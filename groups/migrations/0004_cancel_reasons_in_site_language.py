"""Two cancel reasons the system writes were stored as "统筹安排被放弃 (plan declined)" and, in
English only, "declined waitlist offer"; they are now written once, in the site's language
(``retreat.i18n``). Old booking events are rewritten the same way.

Self-contained on purpose: a migration must not change meaning when the app's code does.
"""

from django.conf import settings
from django.db import migrations
from django.utils import translation

OLD_TO_MESSAGE = {
    "统筹安排被放弃 (plan declined)": "放弃统筹安排的名额",
    "declined waitlist offer": "放弃候补名额",
}


def forwards(apps, schema_editor):
    BookingEvent = apps.get_model("groups", "BookingEvent")
    with translation.override(settings.LANGUAGE_CODE):
        new_reason = {old: translation.gettext(message) for old, message in OLD_TO_MESSAGE.items()}
    changed = []
    for event in BookingEvent.objects.filter(action="cancel").only("pk", "detail").iterator(chunk_size=2000):
        reason = event.detail.get("reason") if isinstance(event.detail, dict) else None
        if reason in new_reason:
            event.detail = {**event.detail, "reason": new_reason[reason]}
            changed.append(event)
    BookingEvent.objects.bulk_update(changed, ["detail"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [("groups", "0003_booking_rules")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
