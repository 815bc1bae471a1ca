"""Admin of investment projects, products and regulatory milestones."""

from django.contrib import admin

from portal.admin_base import CuratedImportExportAdmin, CuratedModelAdmin, CuratedTabularInline
from projects.models import InvestmentProject, Product, ProjectStatusChange, RegulatoryMilestone
from projects.resources import (
    InvestmentProjectResource,
    ProductResource,
    RegulatoryMilestoneResource,
)
from projects.services import investment_project_sync_status


class ProjectStatusChangeInline(CuratedTabularInline):
    model = ProjectStatusChange
    fields = ("status", "date", "date_precision", "note")


class RegulatoryMilestoneInline(CuratedTabularInline):
    model = RegulatoryMilestone
    fields = ("slug", "kind", "authority", "date", "date_precision", "region")
    autocomplete_fields = ("authority", "region")


@admin.register(InvestmentProject)
class InvestmentProjectAdmin(CuratedImportExportAdmin):
    resource_classes = [InvestmentProjectResource]
    list_display = (
        "title",
        "company",
        "kind",
        "amount",
        "currency",
        "amount_kind",
        "announced_on",
        "region",
        "status",
    )
    list_filter = ("kind", "amount_kind", "status", "currency")
    search_fields = ("title", "slug", "company__name_en")
    autocomplete_fields = ("company", "facility", "region", "partners")
    list_select_related = ("company", "region")
    date_hierarchy = "announced_on"
    # Mirrors the latest dated status change; edit the history instead.
    readonly_fields = (*CuratedModelAdmin.readonly_fields, "status", "status_since")
    inlines = (ProjectStatusChangeInline,)

    def after_related_saved(self, request, obj):
        investment_project_sync_status(project=obj, actor=request.user)


@admin.register(ProjectStatusChange)
class ProjectStatusChangeAdmin(CuratedModelAdmin):
    list_display = ("project", "status", "date", "date_precision")
    list_filter = ("status",)
    search_fields = ("project__title", "project__slug", "note")
    autocomplete_fields = ("project",)
    list_select_related = ("project",)

    def after_related_saved(self, request, obj):
        investment_project_sync_status(project=obj.project, actor=request.user)


@admin.register(Product)
class ProductAdmin(CuratedImportExportAdmin):
    resource_classes = [ProductResource]
    list_display = ("name", "name_zh", "company", "modality", "slug")
    list_filter = ("modality",)
    search_fields = ("name", "name_zh", "slug", "company__name_en")
    autocomplete_fields = ("company",)
    list_select_related = ("company",)
    inlines = (RegulatoryMilestoneInline,)


@admin.register(RegulatoryMilestone)
class RegulatoryMilestoneAdmin(CuratedImportExportAdmin):
    resource_classes = [RegulatoryMilestoneResource]
    list_display = ("slug", "product", "kind", "authority", "date", "region")
    list_filter = ("kind", "authority")
    search_fields = ("slug", "product__name", "note")
    autocomplete_fields = ("product", "authority", "region")
    list_select_related = ("product", "authority", "region")
    date_hierarchy = "date"
