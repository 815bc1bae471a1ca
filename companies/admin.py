"""Admin of companies and facilities, with their ownership, aliases, listings and histories."""

from django.contrib import admin

from companies.models import (
    BusinessScopeEvent,
    Company,
    CompanyAlias,
    Facility,
    FacilityStatusChange,
    OwnershipPeriod,
    StockListing,
)
from companies.resources import CompanyResource, FacilityResource
from companies.services import facility_sync_status
from portal.admin_base import (
    CuratedImportExportAdmin,
    CuratedModelAdmin,
    CuratedTabularInline,
)


class CompanyAliasInline(CuratedTabularInline):
    model = CompanyAlias
    fields = ("name", "language", "provenance")


class OwnershipPeriodInline(CuratedTabularInline):
    model = OwnershipPeriod
    fields = ("ownership_type", "effective_from", "effective_to")


class StockListingInline(CuratedTabularInline):
    model = StockListing
    fields = ("exchange", "ticker")


class BusinessScopeEventInline(CuratedTabularInline):
    model = BusinessScopeEvent
    fields = ("date", "date_precision", "description", "modalities")


class FacilityInline(CuratedTabularInline):
    model = Facility
    fields = ("name_en", "slug", "kind", "region", "status")
    readonly_fields = ("status",)
    autocomplete_fields = ("region",)


class FacilityStatusChangeInline(CuratedTabularInline):
    model = FacilityStatusChange
    fields = ("status", "date", "date_precision", "note")


@admin.register(Company)
class CompanyAdmin(CuratedImportExportAdmin):
    resource_classes = [CompanyResource]
    list_display = ("name_en", "name_zh", "kind", "slug", "headquarters_country", "parent")
    list_display_links = ("name_en",)
    list_filter = ("kind", "headquarters_country", "name_zh_provenance")
    search_fields = ("name_en", "name_zh", "slug", "aliases__name")
    autocomplete_fields = ("parent", "registered_region")
    list_select_related = ("parent",)
    inlines = (
        CompanyAliasInline,
        OwnershipPeriodInline,
        StockListingInline,
        BusinessScopeEventInline,
        FacilityInline,
    )


@admin.register(Facility)
class FacilityAdmin(CuratedImportExportAdmin):
    resource_classes = [FacilityResource]
    list_display = ("name_en", "company", "kind", "region", "status", "status_since")
    list_filter = ("status", "kind")
    search_fields = ("name_en", "name_zh", "slug", "company__name_en")
    autocomplete_fields = ("company", "region")
    list_select_related = ("company", "region")
    # Mirrors the latest dated status change; edit the history instead.
    readonly_fields = (*CuratedModelAdmin.readonly_fields, "status", "status_since")
    inlines = (FacilityStatusChangeInline,)

    def after_related_saved(self, request, obj):
        facility_sync_status(facility=obj, actor=request.user)


@admin.register(FacilityStatusChange)
class FacilityStatusChangeAdmin(CuratedModelAdmin):
    list_display = ("facility", "status", "date", "date_precision")
    list_filter = ("status",)
    search_fields = ("facility__name_en", "facility__slug", "note")
    autocomplete_fields = ("facility",)
    list_select_related = ("facility",)

    def after_related_saved(self, request, obj):
        facility_sync_status(facility=obj.facility, actor=request.user)


@admin.register(CompanyAlias)
class CompanyAliasAdmin(CuratedModelAdmin):
    cite = False
    list_display = ("name", "company", "language", "provenance")
    list_filter = ("language", "provenance")
    search_fields = ("name", "company__name_en")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)


@admin.register(OwnershipPeriod)
class OwnershipPeriodAdmin(CuratedModelAdmin):
    list_display = ("company", "ownership_type", "effective_from", "effective_to")
    list_filter = ("ownership_type",)
    search_fields = ("company__name_en", "company__slug")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)


@admin.register(StockListing)
class StockListingAdmin(CuratedModelAdmin):
    list_display = ("exchange", "ticker", "company")
    list_filter = ("exchange",)
    search_fields = ("ticker", "company__name_en")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)


@admin.register(BusinessScopeEvent)
class BusinessScopeEventAdmin(CuratedModelAdmin):
    list_display = ("company", "date", "description")
    search_fields = ("description", "company__name_en")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
