from django.contrib import admin

from bases.models import Base, CertificationEvent, NightInventory, RoomType, Route, RouteDay, RouteDeparture, RouteItem, Theme
from retreat.admin import ReadOnlyAdminMixin


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["slug", "name"]


class RoomTypeInline(admin.TabularInline):
    model = RoomType
    extra = 0


class CertificationEventInline(admin.TabularInline):
    """History is written by the services only; the admin shows it."""

    model = CertificationEvent
    extra = 0
    can_delete = False
    readonly_fields = [
        "action", "from_status", "to_status", "level", "certificate_number", "valid_from", "valid_until", "actor", "reason", "at",
    ]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Base)
class BaseAdmin(admin.ModelAdmin):
    list_display = ["name", "operator", "city_code", "county_code", "kind", "status", "level", "valid_until"]
    list_filter = ["status", "level", "kind", "city_code"]
    search_fields = ["name", "certificate_number", "address"]
    # Certification changes go through the lifecycle services so they are recorded.
    readonly_fields = ["status", "level", "certificate_number", "valid_from", "valid_until"]
    filter_horizontal = ["themes"]
    raw_id_fields = ["operator"]
    inlines = [RoomTypeInline, CertificationEventInline]


@admin.register(CertificationEvent)
class CertificationEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The certification history is kept as it happened: readable here, written only by the lifecycle services."""

    list_display = ["base", "action", "from_status", "to_status", "actor", "at"]
    list_filter = ["action", "to_status"]
    raw_id_fields = ["base", "actor"]


@admin.register(RoomType)
class RoomTypeAdmin(admin.ModelAdmin):
    list_display = ["name", "base", "beds_per_room", "rooms", "price_per_night", "meals_per_day"]
    raw_id_fields = ["base"]


@admin.register(NightInventory)
class NightInventoryAdmin(admin.ModelAdmin):
    list_display = ["room_type", "night", "rooms", "closed", "rooms_held", "rooms_booked"]
    list_filter = ["closed"]
    date_hierarchy = "night"
    raw_id_fields = ["room_type"]
    # Held and booked counts follow the bookings (groups.bookings); editing them here would desynchronise the two.
    readonly_fields = ["rooms_held", "rooms_booked", "people_held", "people_booked"]


class RouteItemInline(admin.TabularInline):
    model = RouteItem
    extra = 0


@admin.register(RouteDay)
class RouteDayAdmin(admin.ModelAdmin):
    list_display = ["route", "number", "night_base"]
    raw_id_fields = ["route", "night_base", "night_room_type"]
    inlines = [RouteItemInline]


class RouteDayInline(admin.TabularInline):
    model = RouteDay
    extra = 0
    raw_id_fields = ["night_base", "night_room_type"]


class RouteDepartureInline(admin.TabularInline):
    model = RouteDeparture
    extra = 0


@admin.register(Route)
class RouteAdmin(admin.ModelAdmin):
    list_display = ["title", "operator", "price_per_head", "published"]
    list_filter = ["published"]
    raw_id_fields = ["operator"]
    inlines = [RouteDayInline, RouteDepartureInline]
