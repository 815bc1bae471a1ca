"""Shared admin machinery for curated models: every save through services, no lost updates.

`CuratedModelAdmin` routes add/change/delete and inline saves through `portal.services`,
carries the version a curator loaded in a hidden field, refuses a stale save with a form
error (never a 500), and shows the database audit trail (`Change`) as the object history.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.contenttypes.admin import GenericTabularInline
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import router, transaction
from django.template.response import TemplateResponse
from django.utils.text import capfirst
from import_export.admin import ImportExportMixin
from import_export.formats.base_formats import CSV, JSON

from portal.audit import set_actor
from portal.models import Change, Citation
from portal.services import ConcurrentEditError, curated_delete, curated_save

CONFLICT_MESSAGE = (
    "This record was changed by someone else since you opened it (you loaded version "
    "%(loaded)s, it is now version %(current)s). Nothing was saved: reload the page and "
    "apply your change again."
)


def _conflict_message(error: ConcurrentEditError, *, main_model) -> str:
    versions = {"loaded": error.expected_version, "current": error.current_version}
    if isinstance(error.instance, main_model):
        return CONFLICT_MESSAGE % versions
    # An inline row lost the race: name it, the page holds many.
    row = f"{error.instance._meta.verbose_name} “{error.instance}”"
    return f"{row}: {CONFLICT_MESSAGE % versions}"


class CuratedAdminForm(forms.ModelForm):
    """Model form that carries the version the curator loaded, so a stale save is refused."""

    loaded_version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["loaded_version"].initial = self.instance.version
        # Set by CuratedModelAdmin when the service refused the save under a race.
        self.conflict_error: str | None = None

    def clean(self):
        cleaned = super().clean()
        if self.conflict_error:
            raise ValidationError(self.conflict_error, code="conflict")
        loaded = cleaned.get("loaded_version")
        # Early, friendly refusal; the service re-checks under a row lock, which is what
        # makes it race-free.
        if self.instance.pk is not None and loaded is not None and loaded != self.instance.version:
            raise ValidationError(
                CONFLICT_MESSAGE % {"loaded": loaded, "current": self.instance.version},
                code="conflict",
            )
        return cleaned


class CuratedInlineMixin:
    """Inline of curated child rows; the parent admin saves them through services.

    Each row carries the version the curator loaded, like the main form: a row someone else
    changed meanwhile is refused (on the row when the form sees it, under the row lock
    otherwise) and nothing of the whole page is saved.
    """

    form = CuratedAdminForm
    extra = 0
    show_change_link = True

    def get_fields(self, request, obj=None):
        fields = list(super().get_fields(request, obj))
        # Inlines list their fields; the hidden version must ride along in every row.
        if "loaded_version" not in fields:
            fields.append("loaded_version")
        return fields


class CuratedTabularInline(CuratedInlineMixin, admin.TabularInline):
    pass


class CuratedStackedInline(CuratedInlineMixin, admin.StackedInline):
    pass


class CitationInline(CuratedInlineMixin, GenericTabularInline):
    """Citations of the record being edited, each with its source and verbatim excerpt."""

    model = Citation
    show_change_link = False
    fields = ("source", "field_name", "excerpt", "verification", "checked_on")
    autocomplete_fields = ("source",)
    classes = ("collapse",)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source")


class CuratedModelAdmin(admin.ModelAdmin):
    """Admin base of every curated model: service writes, optimistic locking, audit history."""

    form = CuratedAdminForm
    readonly_fields = ("version", "created_at", "updated_at")
    history_template = "admin/curated_history.html"
    list_per_page = 50
    #: Add the generic citations inline to every curated admin.
    cite = True

    def get_inlines(self, request, obj):
        inlines = list(super().get_inlines(request, obj))
        if self.cite and CitationInline not in inlines:
            inlines.append(CitationInline)
        return inlines

    # Writes ----------------------------------------------------------------------------

    def save_model(self, request, obj, form, change):
        expected = form.cleaned_data.get("loaded_version") if change else None
        self.save_instance(request, obj, expected_version=expected)

    def save_instance(self, request, obj, *, expected_version):
        """The service call for the main object; entity admins may route to their service."""
        curated_save(obj, actor=request.user, expected_version=expected_version)

    def save_related(self, request, form, formsets, change):
        # Many-to-many rows are audited too; name the actor for them explicitly.
        set_actor(request.user)
        form.save_m2m()
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)
        self.after_related_saved(request, form.instance)

    def after_related_saved(self, request, obj) -> None:
        """Hook for keeping derived fields (e.g. current status) in step with child rows."""

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        loaded = {
            row.instance.pk: row.cleaned_data.get("loaded_version")
            for row in formset.initial_forms
            if hasattr(row, "cleaned_data")
        }
        for deleted in formset.deleted_objects:
            curated_delete(deleted, actor=request.user, expected_version=loaded.get(deleted.pk))
        for instance in instances:
            expected = None if instance._state.adding else loaded.get(instance.pk)
            self.save_inline_instance(request, instance, expected_version=expected)
        formset.save_m2m()

    def save_inline_instance(self, request, instance, *, expected_version) -> None:
        curated_save(instance, actor=request.user, expected_version=expected_version)

    def delete_model(self, request, obj):
        curated_delete(obj, actor=request.user, expected_version=None)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            curated_delete(obj, actor=request.user, expected_version=None)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        try:
            # One savepoint around object, inlines and m2m: a refused save leaves nothing.
            with transaction.atomic(using=router.db_for_write(self.model)):
                return super().changeform_view(request, object_id, form_url, extra_context)
        except ConcurrentEditError as error:
            request._curated_conflict = _conflict_message(error, main_model=self.model)
            # Render the posted form again; the flag makes it invalid with the message.
            return super().changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change=change, **kwargs)
        conflict = getattr(request, "_curated_conflict", None)
        if not conflict:
            return form_class

        class ConflictForm(form_class):
            def __init__(self, *args, **inner_kwargs):
                super().__init__(*args, **inner_kwargs)
                self.conflict_error = conflict

        return ConflictForm

    # History ---------------------------------------------------------------------------

    def history_view(self, request, object_id, extra_context=None):
        """The object's audit trail from the database trigger, newest first, with diffs."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        changes = Change.objects.for_object(obj).order_by("-occurred_at", "-id")[:500]
        entries = [
            {
                "change": change,
                "actor": change.actor_label or "(system)",
                "diff": change.diff(),
            }
            for change in changes
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"Change history: {obj}",
            "subtitle": None,
            "entries": entries,
            "module_name": str(capfirst(self.opts.verbose_name_plural)),
            "object": obj,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.history_template, context)


class CuratedImportExportAdmin(ImportExportMixin, CuratedModelAdmin):
    """Curated admin with CSV/JSON import (preview, then all-or-nothing apply) and export."""

    import_formats = [CSV, JSON]
    export_formats = [CSV, JSON]

    def get_import_data_kwargs(self, **kwargs):
        data_kwargs = super().get_import_data_kwargs(**kwargs)
        # A file with one invalid row must write nothing, also on the confirmed apply.
        data_kwargs["rollback_on_validation_errors"] = True
        return data_kwargs

    def process_result(self, result, request):
        if result.has_errors() or result.has_validation_errors():
            # The data changed between preview and apply; nothing was written.
            self.message_user(
                request,
                "Import refused: the file no longer validates; nothing was written.",
                level=messages.ERROR,
            )
        return super().process_result(result, request)
