from django import template

from bases.regions import city_name as name_of_city

register = template.Library()


@register.filter
def city_name(code: str) -> str:
    return name_of_city(code)


@register.filter
def status_badge(status: str) -> str:
    """The CSS class of a certification status badge."""
    return {"certified": "ok", "applied": "warn", "suspended": "warn", "draft": "", "revoked": "bad", "expired": "bad"}.get(status, "")


@register.filter
def lodging_estimate(availability, people: int):
    return availability.lodging_estimate(people)
