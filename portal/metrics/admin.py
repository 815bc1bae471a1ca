"""Admin of derived metrics: read-only, with a "Recompute metrics" action.

Imported by portal/admin.py (one line) so the admin site registers it.
"""

import logging

from django.contrib import admin, messages

from portal.metrics import tasks
from portal.models import Figure

logger = logging.getLogger(__name__)


@admin.action(description="Recompute metrics (all families, in the background)")
def recompute_metrics(modeladmin, request, queryset):
    try:
        tasks.recompute_all_metrics.delay()
    except Exception:  # broker down: say so instead of a 500
        logger.warning("could not queue a metrics recompute", exc_info=True)
        modeladmin.message_user(
            request, "Could not queue the recompute; try again later.", messages.ERROR
        )
        return
    modeladmin.message_user(request, "Recompute of all metrics queued.", messages.SUCCESS)


@admin.register(Figure)
class MetricAdmin(admin.ModelAdmin):
    list_display = (
        "subject_type",
        "subject_id",
        "name",
        "dimensions_key",
        "value",
        "unit",
        "input_version",
        "computed_at",
    )
    list_filter = ("subject_type", "name")
    search_fields = ("name", "dimensions_key")
    readonly_fields = [field.name for field in Figure._meta.fields]
    actions = [recompute_metrics]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        # The action recomputes everything; let it run with nothing selected.
        if request.POST.get("action") == "recompute_metrics" and not request.POST.getlist(
            admin.helpers.ACTION_CHECKBOX_NAME
        ):
            post = request.POST.copy()
            post.setlist(admin.helpers.ACTION_CHECKBOX_NAME, ["0"])
            request.POST = post
        return super().changelist_view(request, extra_context)
