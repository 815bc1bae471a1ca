"""Admin of policies, provisions, relations, targets, subsidy cap groups and rules."""

from django.contrib import admin

from policies.models import (
    Policy,
    PolicyRelation,
    PolicyTarget,
    Provision,
    SubsidyCapGroup,
    SubsidyRule,
)
from policies.resources import PolicyResource, ProvisionResource
from portal.admin_base import (
    CuratedImportExportAdmin,
    CuratedModelAdmin,
    CuratedStackedInline,
    CuratedTabularInline,
)


class ProvisionInline(CuratedStackedInline):
    model = Provision
    fields = ("path", "order", "heading", "kind", "text", "responsible_authorities")
    autocomplete_fields = ("responsible_authorities",)


class PolicyTargetInline(CuratedTabularInline):
    model = PolicyTarget
    fields = ("slug", "metric", "comparator", "value", "unit", "deadline", "region")
    autocomplete_fields = ("region",)


class OutgoingRelationInline(CuratedTabularInline):
    model = PolicyRelation
    fk_name = "from_policy"
    fields = ("kind", "to_policy")
    autocomplete_fields = ("to_policy",)
    verbose_name = "relation to another policy"


@admin.register(Policy)
class PolicyAdmin(CuratedImportExportAdmin):
    resource_classes = [PolicyResource]
    list_display = (
        "title_en",
        "kind",
        "jurisdiction",
        "document_number",
        "published_on",
        "effective_from",
        "expires_on",
        "repealed_on",
    )
    list_filter = ("kind",)
    search_fields = ("title_en", "title_zh", "slug", "document_number")
    autocomplete_fields = ("jurisdiction", "issuing_authorities")
    list_select_related = ("jurisdiction",)
    date_hierarchy = "effective_from"
    inlines = (ProvisionInline, PolicyTargetInline, OutgoingRelationInline)


@admin.register(Provision)
class ProvisionAdmin(CuratedImportExportAdmin):
    resource_classes = [ProvisionResource]
    list_display = ("path", "heading", "policy", "kind", "order")
    list_filter = ("kind",)
    search_fields = ("path", "heading", "text", "policy__title_en", "policy__slug")
    autocomplete_fields = ("policy", "responsible_authorities")
    list_select_related = ("policy",)


@admin.register(PolicyRelation)
class PolicyRelationAdmin(CuratedModelAdmin):
    list_display = ("from_policy", "kind", "to_policy")
    list_filter = ("kind",)
    search_fields = ("from_policy__title_en", "to_policy__title_en")
    autocomplete_fields = ("from_policy", "to_policy")
    list_select_related = ("from_policy", "to_policy")


@admin.register(PolicyTarget)
class PolicyTargetAdmin(CuratedModelAdmin):
    list_display = ("slug", "policy", "metric", "comparator", "value", "unit", "deadline")
    list_filter = ("metric", "comparator")
    search_fields = ("slug", "description", "policy__title_en")
    autocomplete_fields = ("policy", "provision", "region")
    list_select_related = ("policy",)


@admin.register(SubsidyCapGroup)
class SubsidyCapGroupAdmin(CuratedModelAdmin):
    list_display = ("code", "name", "amount", "currency", "period", "provision")
    list_filter = ("currency", "period")
    search_fields = ("code", "name")
    autocomplete_fields = ("provision",)
    list_select_related = ("provision",)


@admin.register(SubsidyRule)
class SubsidyRuleAdmin(CuratedModelAdmin):
    list_display = ("code", "name", "provision", "cap_group", "currency", "effective_from")
    list_filter = ("currency", "cap_group")
    search_fields = ("code", "name", "description", "provision_excerpt")
    autocomplete_fields = ("provision", "cap_group")
    list_select_related = ("provision", "cap_group")
