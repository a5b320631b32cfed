"""Texts the system writes into stored records (a history entry, a run's error).

A stored text has no reader yet and every later reader sees the same words, so it
is written once in the site's language (settings.LANGUAGE_CODE), not in the
language of whichever request or task happened to cause it.
"""
from django.conf import settings
from django.utils import translation


def in_site_language(message, **values) -> str:
    """`message` (a lazy gettext string with %(name)s placeholders) in the site's language."""
    with translation.override(settings.LANGUAGE_CODE):
        return str(message) % values if values else str(message)
