"""Filters of the base directory and the route list, shared by the API and the pages.

They narrow a queryset the selectors have already scoped to the actor, so a
filter can never widen what someone sees.
"""

import django_filters
from django import forms
from django.db.models import F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from bases.models import Base, Route, Theme
from retreat.errors import ValidationFailed
from retreat.i18n import listed


def region_q(code: str, *, city_field: str = "city_code", county_field: str = "county_code") -> Q:
    """A province (44 0000), city (4419 00) or county code to the bases it covers."""
    if code.endswith("0000"):
        return Q(**{f"{city_field}__startswith": code[:2]})
    if code.endswith("00"):
        return Q(**{city_field: code})
    return Q(**{county_field: code})


class BaseFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(method="filter_region", label=_("地区代码"))
    kind = django_filters.ChoiceFilter(choices=Base.Kind.choices, label=_("类型"))
    theme = django_filters.ModelChoiceFilter(
        field_name="themes", to_field_name="slug", queryset=Theme.objects.all(), label=_("主题")
    )
    status = django_filters.ChoiceFilter(choices=Base.Status.choices, label=_("认证状态"))
    level = django_filters.ChoiceFilter(choices=Base.Level.choices, label=_("认证级别"))
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains", label=_("名称"))

    class Meta:
        model = Base
        fields = ["region", "kind", "theme", "status", "level", "q"]

    def filter_region(self, queryset, name, value):
        if not (len(value) == 6 and value.isdigit()):
            return queryset.none()
        return queryset.filter(region_q(value))


class RouteFilterForm(forms.Form):
    def clean(self):
        data = super().clean()
        first, last = data.get("departing_from"), data.get("departing_until")
        if first and last and first > last:
            raise forms.ValidationError(
                _("出发日期范围的起点 %(first)s 晚于终点 %(last)s"),
                params={"first": first, "last": last}, code="date_range",
            )
        return data


class RouteFilter(django_filters.FilterSet):
    region = django_filters.CharFilter(method="filter_region", label=_("地区代码"))
    theme = django_filters.ModelChoiceFilter(
        field_name="themes", to_field_name="slug", queryset=Theme.objects.all(), label=_("主题")
    )
    operator_id = django_filters.NumberFilter(field_name="operator_id")
    departing_from = django_filters.DateFilter(method="filter_departures")
    departing_until = django_filters.DateFilter(method="filter_departures")
    seats = django_filters.NumberFilter(method="filter_departures", min_value=1)
    q = django_filters.CharFilter(field_name="title", lookup_expr="icontains")

    class Meta:
        model = Route
        fields = ["region", "theme", "operator_id", "q"]
        form = RouteFilterForm

    def filter_region(self, queryset, name, value):
        q = region_q(value, city_field="route_days__night_base__city_code", county_field="route_days__night_base__county_code")
        return queryset.filter(pk__in=Route.objects.filter(q).values("pk"))

    def filter_departures(self, queryset, name, value):
        # The three departure filters describe one departure, so they are applied together once.
        if getattr(self, "_departures_filtered", False):
            return queryset
        self._departures_filtered = True
        data = self.form.cleaned_data
        departures = Q()
        if data.get("departing_from"):
            departures &= Q(departures__date__gte=data["departing_from"])
        if data.get("departing_until"):
            departures &= Q(departures__date__lte=data["departing_until"])
        if data.get("seats"):
            departures &= Q(departures__seats__gte=F("departures__seats_held") + F("departures__seats_booked") + data["seats"])
        return queryset.filter(pk__in=Route.objects.filter(departures).values("pk"))


def apply_filter(filter_class, data: dict, queryset: QuerySet) -> QuerySet:
    """The filtered queryset, or a 422 naming the parameters that were not understood."""
    filterset = filter_class({k: v for k, v in data.items() if v not in (None, "")}, queryset=queryset)
    if not filterset.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        where = listed(f"{name}: {' '.join(msgs)}" for name, msgs in errors.items())
        raise ValidationFailed(_("筛选条件有误：%(where)s") % {"where": where}, detail=errors)
    return filterset.qs
