"""Admin of the shared core: regions, sources, citations, authorities, figures, rates, tokens."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404

from portal.admin_base import CuratedAdminForm, CuratedImportExportAdmin, CuratedModelAdmin
from portal.models import (
    ApiToken,
    Authority,
    Change,
    Citation,
    ExchangeRate,
    Region,
    ReportedFigure,
    Source,
)
from portal.resources import RegionResource
from portal.services import api_token_revoke


class RegionAdminForm(CuratedAdminForm):
    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        # The database trigger refuses cycles too; say it here as a field error, not a 500.
        if (
            parent is not None
            and self.instance.pk is not None
            and self.instance.pk in parent.ancestor_ids
        ):
            raise forms.ValidationError("A region cannot be placed under itself.")
        return parent


@admin.register(Region)
class RegionAdmin(CuratedImportExportAdmin):
    form = RegionAdminForm
    resource_classes = [RegionResource]
    list_display = ("name_en", "name_zh", "kind", "slug", "parent", "depth")
    list_filter = ("kind", "name_zh_provenance")
    search_fields = ("name_en", "name_zh", "slug", "aliases")
    autocomplete_fields = ("parent",)
    list_select_related = ("parent",)
    readonly_fields = (*CuratedModelAdmin.readonly_fields, "path", "depth")


@admin.register(Source)
class SourceAdmin(CuratedModelAdmin):
    cite = False
    list_display = ("title", "key", "publisher", "published_on", "language", "seed_file")
    list_filter = ("language", "publisher")
    search_fields = ("title", "key", "publisher", "url")
    date_hierarchy = "published_on"


@admin.register(Citation)
class CitationAdmin(CuratedModelAdmin):
    cite = False
    list_display = (
        "id",
        "source",
        "content_type",
        "object_id",
        "field_name",
        "short_excerpt",
        "verification",
        "checked_on",
    )
    list_filter = ("verification", "content_type", "source")
    search_fields = ("excerpt", "field_name", "source__title", "source__key")
    autocomplete_fields = ("source",)
    list_select_related = ("source", "content_type")

    @admin.display(description="Excerpt")
    def short_excerpt(self, obj: Citation) -> str:
        return obj.excerpt if len(obj.excerpt) <= 90 else obj.excerpt[:89] + "…"


@admin.register(Authority)
class AuthorityAdmin(CuratedModelAdmin):
    list_display = ("name_en", "abbreviation", "name_zh", "slug", "region")
    list_filter = ("region",)
    search_fields = ("name_en", "name_zh", "abbreviation", "slug")
    autocomplete_fields = ("region",)
    list_select_related = ("region",)


@admin.register(ReportedFigure)
class ReportedFigureAdmin(CuratedModelAdmin):
    list_display = (
        "slug",
        "measure",
        "comparator",
        "value",
        "unit",
        "as_of",
        "subject_content_type",
    )
    list_filter = ("measure", "subject_content_type", "comparator")
    search_fields = ("slug", "description", "measure")
    list_select_related = ("subject_content_type",)


@admin.register(ExchangeRate)
class ExchangeRateAdmin(CuratedModelAdmin):
    list_display = ("currency", "date", "rate_to_cny")
    list_filter = ("currency",)
    search_fields = ("currency",)
    date_hierarchy = "date"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are issued by the token service (raw value shown once there); here: list, revoke."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "revoked_at", "active")
    list_filter = ("revoked_at", "expires_at")
    search_fields = ("name", "prefix", "user__username", "user__email")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = fields
    actions = ("revoke",)

    @admin.display(boolean=True, description="Active")
    def active(self, obj: ApiToken) -> bool:
        return obj.is_active()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The revoke action needs change permission; all fields are read-only anyway.
        return request.user.is_active and request.user.is_superuser

    def _not_found_without_permission(self, request) -> None:
        # Django answers 403 for an existing token but redirects for a missing one (history),
        # which tells a curator which token ids exist; without permission every id is 404.
        if not self.has_view_or_change_permission(request):
            raise Http404

    def change_view(self, request, object_id, form_url="", extra_context=None):
        self._not_found_without_permission(request)
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._not_found_without_permission(request)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._not_found_without_permission(request)
        return super().history_view(request, object_id, extra_context)

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):
        count = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(token=token)
            count += 1
        self.message_user(request, f"Revoked {count} token(s).", level=messages.SUCCESS)


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    """The audit log, read-only: written by a database trigger, never edited."""

    list_display = ("occurred_at", "table_name", "object_pk", "action", "actor_label")
    list_filter = ("action", "table_name")
    search_fields = ("table_name", "object_pk", "actor_label")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    readonly_fields = (
        "table_name",
        "object_pk",
        "action",
        "actor_label",
        "occurred_at",
        "transaction_id",
        "old_data",
        "new_data",
    )
    fields = readonly_fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


from portal.metrics import admin as metrics_admin  # noqa: E402, F401 - registers Metric
