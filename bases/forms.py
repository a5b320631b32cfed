"""Forms of the bases pages. They only parse input; the services decide and write."""

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bases.models import Base, RoomType, Route, RouteItem, Theme
from bases.regions import GUANGDONG_CITIES, city_name
from bases.selectors import MAX_STAY_NIGHTS
from bases.services import BASE_FIELDS, ROOM_TYPE_FIELDS, RouteDaySpec, RouteItemSpec

DATE = forms.DateInput(attrs={"type": "date"})
MAX_ROOMS = 10000  # as in the API's schemas


class BaseForm(forms.ModelForm):
    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.all(), required=False, label=_("主题"), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Base
        fields = [name for name in BASE_FIELDS if name != "cancellation_policy"]

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["themes"] = [theme.slug for theme in data.pop("themes")]
        return data


class RoomTypeForm(forms.ModelForm):
    class Meta:
        model = RoomType
        fields = list(ROOM_TYPE_FIELDS)


class NightRangeForm(forms.Form):
    room_type = forms.TypedChoiceField(label=_("房型"), coerce=int)
    first_night = forms.DateField(label=_("起始日期"), widget=DATE)
    last_night = forms.DateField(label=_("结束日期"), widget=DATE)

    def __init__(self, *args, room_types: list[RoomType], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["room_type"].choices = [(rt.pk, rt.name) for rt in room_types]


class OpenSeasonForm(NightRangeForm):
    rooms = forms.IntegerField(label=_("每晚房间数"), min_value=0, max_value=MAX_ROOMS, required=False, help_text=_("留空则按房型房间数"))


class CapacityForm(NightRangeForm):
    rooms = forms.IntegerField(label=_("每晚房间数"), min_value=0, max_value=MAX_ROOMS)


# operation name -> (form, label)
INVENTORY_OPERATIONS = {
    "open_season": (OpenSeasonForm, _("开放售卖季")),
    "close": (NightRangeForm, _("关闭日期")),
    "reopen": (NightRangeForm, _("重新开放")),
    "capacity": (CapacityForm, _("调整房间数")),
}


class AvailabilityForm(forms.Form):
    first_night = forms.DateField(label=_("入住日期"), widget=DATE)
    nights = forms.IntegerField(label=_("晚数"), min_value=1, max_value=MAX_STAY_NIGHTS, initial=3)
    people = forms.IntegerField(label=_("人数"), min_value=1, max_value=5000, initial=30)
    rooms = forms.IntegerField(label=_("房间数"), min_value=1, max_value=5000, initial=15)
    max_price = forms.DecimalField(label=_("每人每晚最高价"), min_value=0, max_digits=13, decimal_places=2, required=False)


class CertifyForm(forms.Form):
    level = forms.ChoiceField(label=_("认证级别"), choices=Base.Level.choices)
    certificate_number = forms.CharField(label=_("证书编号"), max_length=40)
    valid_from = forms.DateField(label=_("有效期自"), widget=DATE, initial=timezone.localdate)
    valid_until = forms.DateField(label=_("有效期至"), widget=DATE)
    reason = forms.CharField(label=_("说明"), required=False, max_length=2000)


class RenewForm(forms.Form):
    valid_until = forms.DateField(label=_("新的有效期至"), widget=DATE)
    certificate_number = forms.CharField(label=_("新证书编号（可选）"), max_length=40, required=False)
    reason = forms.CharField(label=_("说明"), required=False, max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), required=False, max_length=2000)


# action -> form parsing its input
CERTIFICATION_FORMS = {
    "apply": ReasonForm,
    "certify": CertifyForm,
    "suspend": ReasonForm,
    "reinstate": ReasonForm,
    "revoke": ReasonForm,
    "renew": RenewForm,
}


# --- routes -----------------------------------------------------------------------------

MAX_ROUTE_DAYS = 30


class RouteSearchForm(forms.Form):
    """The route directory's filters; the departure fields describe one departure with free seats."""

    q = forms.CharField(label=_("线路名称"), max_length=60, required=False)
    theme = forms.ModelChoiceField(
        queryset=Theme.objects.all(), to_field_name="slug", required=False, label=_("主题"), empty_label=_("全部")
    )
    region = forms.ChoiceField(
        label=_("住宿地市"), required=False,
        choices=[("", _("全部"))] + sorted(GUANGDONG_CITIES.items()),
    )
    departing_from = forms.DateField(label=_("出发日期自"), widget=DATE, required=False)
    departing_until = forms.DateField(label=_("出发日期至"), widget=DATE, required=False)
    seats = forms.IntegerField(label=_("至少空余座位"), min_value=1, max_value=10000, required=False)

    def clean(self):
        data = super().clean()
        first, last = data.get("departing_from"), data.get("departing_until")
        if first and last and last < first:
            self.add_error("departing_until", _("结束日期不能早于开始日期"))
        return data

    def filter_arguments(self, *, today: dt.date) -> dict:
        """What ``bases.filters.RouteFilter`` takes; a departure search without a start looks ahead from today."""
        data = self.cleaned_data
        departing_from = data["departing_from"]
        if departing_from is None and (data["departing_until"] or data["seats"]):
            departing_from = today
        return {
            "q": data["q"], "theme": data["theme"].slug if data["theme"] else None, "region": data["region"],
            "departing_from": departing_from, "departing_until": data["departing_until"], "seats": data["seats"],
        }


class RouteForm(forms.ModelForm):
    themes = forms.ModelMultipleChoiceField(
        queryset=Theme.objects.all(), required=False, label=_("主题"), widget=forms.CheckboxSelectMultiple
    )

    class Meta:
        model = Route
        fields = ["title", "summary", "price_per_head"]

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["themes"] = [theme.slug for theme in data.pop("themes")]
        return data


def route_item_line(item: RouteItem) -> str:
    return " | ".join([f"{item.time:%H:%M}", item.place, item.activity, item.meals]).rstrip(" |")


class RouteDayForm(forms.Form):
    """One day: where the night is spent (a room type, which names its base) and the programme, one item a line."""

    night_room_type = forms.TypedChoiceField(label=_("当晚住宿"), coerce=int, required=False, empty_value=None)
    items = forms.CharField(
        label=_("日程"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一项：时间 | 地点 | 活动 | 餐食，如 09:00 | 河源市劳模馆 | 参观学习 | 午餐"),
    )

    def __init__(self, *args, room_types: list[RoomType], **kwargs):
        super().__init__(*args, **kwargs)
        self.base_of_room_type = {room_type.pk: room_type.base_id for room_type in room_types}
        by_base: dict[Base, list[tuple[int, str]]] = {}
        for room_type in room_types:
            label = _("%(name)s（每间 %(beds)s 床）") % {"name": room_type.name, "beds": room_type.beds_per_room}
            by_base.setdefault(room_type.base, []).append((room_type.pk, label))
        self.fields["night_room_type"].choices = [("", _("不住宿（如返程日）"))] + [
            (f"{city_name(base.city_code)} · {base.name}", choices) for base, choices in by_base.items()
        ]

    def clean_items(self) -> list[RouteItemSpec]:
        items, problems = [], []
        for number, line in enumerate(self.cleaned_data["items"].splitlines(), start=1):
            if not line.strip():
                continue
            parts = [part.strip() for part in line.replace("｜", "|").split("|")]  # full-width bars from Chinese IMEs too
            if len(parts) not in (3, 4):
                problems.append(_("第 %(n)s 行：应为“时间 | 地点 | 活动 | 餐食”（餐食可省略）") % {"n": number})
                continue
            time, place, activity, meals = (parts + [""])[:4]
            try:
                parsed_time = forms.TimeField().clean(time)
            except forms.ValidationError:
                problems.append(_("第 %(n)s 行：时间“%(time)s”应为 时:分，如 09:00") % {"n": number, "time": time})
                continue
            for value, limit, what in ((place, 120, _("地点")), (activity, 200, _("活动")), (meals, 40, _("餐食"))):
                if len(value) > limit:
                    problems.append(_("第 %(n)s 行：%(what)s 最多 %(limit)s 字") % {"n": number, "what": what, "limit": limit})
            if not place or not activity:
                problems.append(_("第 %(n)s 行：请填写地点和活动") % {"n": number})
            items.append(RouteItemSpec(time=parsed_time, place=place, activity=activity, meals=meals))
        if problems:
            raise forms.ValidationError(problems)
        return items

    @property
    def is_used(self) -> bool:
        return bool(self.cleaned_data.get("night_room_type") or self.cleaned_data.get("items"))

    def day_spec(self, number: int) -> RouteDaySpec:
        room_type_id = self.cleaned_data["night_room_type"]
        return RouteDaySpec(
            number=number, night_base_id=self.base_of_room_type.get(room_type_id), night_room_type_id=room_type_id,
            items=self.cleaned_data["items"],
        )


class BaseRouteDayFormSet(forms.BaseFormSet):
    """Days in order; blank forms at the end are left out, a blank day between filled ones is an error."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        used = [form.is_used for form in self.forms]
        if not any(used):
            raise forms.ValidationError(_("线路至少需要一天的日程或住宿"))
        last_used = max(index for index, is_used in enumerate(used) if is_used)
        for index in range(last_used):
            if not used[index]:
                self.forms[index].add_error(None, _("此日未填写：请填写日程或住宿，或把后面的日程前移"))

    def used_forms(self) -> list[RouteDayForm]:
        last_used = max(index for index, form in enumerate(self.forms) if form.is_used)
        return self.forms[: last_used + 1]

    def day_specs(self) -> list[RouteDaySpec]:
        return [form.day_spec(number) for number, form in enumerate(self.used_forms(), start=1)]

    def form_of_day(self, number) -> RouteDayForm | None:
        """The form that became day ``number`` (1-based), to show a service's refusal next to it."""
        used = self.used_forms()
        return used[number - 1] if isinstance(number, int) and 1 <= number <= len(used) else None


def route_day_formset(*, data=None, route: Route | None = None, room_types: list[RoomType], blank_days: int = 2):
    """The days of ``route`` (or none yet) followed by ``blank_days`` empty ones."""
    initial = [
        {"night_room_type": day.night_room_type_id, "items": "\n".join(route_item_line(item) for item in day.items.all())}
        for day in (route.route_days.all() if route else [])
    ]
    formset_class = forms.formset_factory(
        RouteDayForm, formset=BaseRouteDayFormSet, extra=min(blank_days, MAX_ROUTE_DAYS - len(initial)),
        max_num=MAX_ROUTE_DAYS, validate_max=True,
    )
    return formset_class(data=data, initial=initial, prefix="days", form_kwargs={"room_types": room_types})


class DepartureForm(forms.Form):
    date = forms.DateField(label=_("出发日期"), widget=DATE)
    seats = forms.IntegerField(label=_("座位数"), min_value=1, max_value=10000)


class DepartureSeatsForm(forms.Form):
    seats = forms.IntegerField(label=_("座位数"), min_value=0, max_value=10000)
