"""Planning rounds in templates: stored reasons shown in the reader's language."""

from django import template

from itineraries.planning_reasons import reason_in_words

register = template.Library()
register.filter("reason_in_words", reason_in_words)
