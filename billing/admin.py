"""Read-mostly admin: balances and the ledger are written only by billing services."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from billing.models import FundProgramme, LedgerEntry, MonthBatch, Settlement, SettlementEvent, UnionFundingPolicy
from retreat.admin import ReadOnlyAdminMixin


@admin.register(FundProgramme)
class FundProgrammeAdmin(admin.ModelAdmin):
    list_display = ["name", "union", "contribution", "order", "budget", "committed", "spent", "available", "is_active"]
    list_filter = ["contribution", "is_active", "family_allowed", "no_repeat_scope"]
    search_fields = ["name", "union__name"]
    readonly_fields = ["budget", "committed", "spent", "available", "created_by", "created_at"]
    filter_horizontal = ["fully_funded_unions"]
    fieldsets = [
        (None, {"fields": ["union", "name", "valid_from", "valid_until", "order", "is_active"]}),
        (
            _("资助方式与上限"),
            {
                "fields": [
                    "contribution",
                    ("flat_amount_per_person_day", "flat_once_per_year"),
                    ("matching_ratio", "matching_cap_per_head", "matching_total_cap"),
                    ("cap_per_person_day", "cap_per_person_year"),
                ]
            },
        ),
        (
            _("资助条件"),
            {
                "fields": [
                    "base_levels",
                    "base_region_prefixes",
                    "participant_categories",
                    "max_stay_days",
                    "min_front_line_percent",
                    ("no_repeat_years", "no_repeat_scope"),
                    "family_allowed",
                    "fully_funded_unions",
                ]
            },
        ),
        (_("余额"), {"fields": ["budget", "committed", "spent", "available", "created_by", "created_at"]}),
    ]

    def has_add_permission(self, request):
        return False  # through the API or pages, so balances start consistent


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "programme", "booking", "kind", "committed_delta", "spent_delta", "actor"]
    list_filter = ["kind", "programme"]
    search_fields = ["booking__reference", "idempotency_key"]


class SettlementEventInline(admin.TabularInline):
    model = SettlementEvent
    extra = 0
    can_delete = False
    readonly_fields = ["action", "actor", "at", "reason", "detail"]


@admin.register(Settlement)
class SettlementAdmin(admin.ModelAdmin):
    list_display = ["number", "booking", "status", "total_cost", "programmes_total", "union_amount", "own_payment", "submitted_at"]
    list_filter = ["status"]
    search_fields = ["number", "booking__reference"]
    inlines = [SettlementEventInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(UnionFundingPolicy)
class UnionFundingPolicyAdmin(admin.ModelAdmin):
    list_display = ["union", "cost_standard_per_person_day"]


@admin.register(MonthBatch)
class MonthBatchAdmin(admin.ModelAdmin):
    list_display = ["month", "requested_by", "status", "done", "total", "created_at", "finished_at"]
    readonly_fields = ["archive", "error"]
