"""Language helpers shared by the apps.

A text the system writes into a stored record (a history entry, a run's error) or
sends from a task (an e-mail) has no reader yet, and every later reader sees the
same words, so it is written once in the site's language (settings.LANGUAGE_CODE),
not in the language of whichever request or task happened to cause it.
"""
from collections.abc import Iterable

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _


def site_language():
    """Context manager: the site's language active inside it."""
    return translation.override(settings.LANGUAGE_CODE)


def in_site_language(message, **values) -> str:
    """`message` (a lazy gettext string with %(name)s placeholders) in the site's language."""
    with site_language():
        return str(message) % values if values else str(message)


def listed(items: Iterable) -> str:
    """Items (problems, nights, ...) joined with the active language's separator (「；」 / "; ")."""
    return _("；").join(str(item) for item in items)
