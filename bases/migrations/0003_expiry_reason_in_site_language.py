"""The automatic certificate-expiry reason was stored bilingual ("…届满 (certificate ran out on …)");
it is now written once, in the site's language (``retreat.i18n``). Old rows are rewritten the same way.

Self-contained on purpose: a migration must not change meaning when the app's code does.
"""

import re

from django.conf import settings
from django.db import migrations
from django.utils import translation

OLD = re.compile(r"证书有效期已于 (\S+) 届满 \(certificate ran out on \1\)")


def forwards(apps, schema_editor):
    CertificationEvent = apps.get_model("bases", "CertificationEvent")
    with translation.override(settings.LANGUAGE_CODE):
        message = translation.gettext("证书有效期已于 %(date)s 届满")
    for event in CertificationEvent.objects.filter(action="expire", reason__endswith=")").only("pk", "reason"):
        if match := OLD.fullmatch(event.reason):
            CertificationEvent.objects.filter(pk=event.pk).update(reason=message % {"date": match[1]})


class Migration(migrations.Migration):
    dependencies = [("bases", "0002_alter_routeday_options_alter_routedeparture_options_and_more")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True)]
