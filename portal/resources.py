"""Import/export resources of the shared core, and the base every app's resources build on.

Imports run in one transaction (IMPORT_EXPORT_USE_TRANSACTIONS), save each row through
`curated_save` with the importing user named for the audit trigger, and report a broken
database constraint against the field it checks, with the row number, in the preview.
"""

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from import_export import fields, resources, widgets

from portal.audit import set_actor
from portal.models import Region
from portal.services import curated_save

BOOKKEEPING_FIELDS = ("id", "version", "created_at", "updated_at")


class SlugForeignKeyWidget(widgets.ForeignKeyWidget):
    """Foreign key by natural key; an unknown key is a clear, field-level error."""

    def __init__(self, model, field="slug", **kwargs):
        super().__init__(model, field=field, **kwargs)

    def clean(self, value, row=None, **kwargs):
        try:
            return super().clean(value, row=row, **kwargs)
        except self.model.DoesNotExist as error:
            raise ValueError(
                f"No {self.model._meta.verbose_name} with {self.field} “{value}”."
            ) from error


class ListWidget(widgets.SimpleArrayWidget):
    """Array fields: a comma-separated cell in CSV, a real list in JSON."""

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, list | tuple):
            return [str(item).strip() for item in value]
        return [item.strip() for item in super().clean(value, row=row, **kwargs) if item.strip()]


class SlugManyToManyWidget(widgets.ManyToManyWidget):
    """Many-to-many by natural key: "a,b" in CSV, ["a", "b"] in JSON; unknown keys are errors."""

    def __init__(self, model, field="slug", **kwargs):
        super().__init__(model, field=field, **kwargs)

    def clean(self, value, row=None, **kwargs):
        if isinstance(value, list | tuple):
            keys = [str(item).strip() for item in value]
        else:
            keys = [item.strip() for item in str(value or "").split(self.separator)]
        keys = [key for key in keys if key]
        found = self.model.objects.filter(**{f"{self.field}__in": keys})
        missing = sorted(set(keys) - {getattr(obj, self.field) for obj in found})
        if missing:
            raise ValueError(
                f"No {self.model._meta.verbose_name} with {self.field} {', '.join(missing)}."
            )
        return found


def slug_fk(attribute: str, model, field: str = "slug") -> fields.Field:
    return fields.Field(
        attribute=attribute, column_name=attribute, widget=SlugForeignKeyWidget(model, field)
    )


def slug_m2m(attribute: str, model, field: str = "slug") -> fields.Field:
    return fields.Field(
        attribute=attribute,
        column_name=attribute,
        widget=SlugManyToManyWidget(model, field),
        m2m_add=False,
    )


def list_field(attribute: str) -> fields.Field:
    return fields.Field(attribute=attribute, column_name=attribute, widget=ListWidget())


def constraint_errors(instance) -> dict[str, list[str]]:
    """Database check constraints the instance breaks, keyed by the field each checks.

    Django reports a broken CheckConstraint as a row-wide error; curators need the field,
    so attribute it to the last field the condition names (the checked one in
    "amount >= 0", "expires_on >= effective_from", "currency set with amount").
    """
    errors: dict[str, list[str]] = {}
    for constraint in type(instance)._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        try:
            constraint.validate(type(instance), instance)
        except ValidationError as error:
            field = _last_field(constraint.condition) or NON_FIELD_ERRORS
            errors.setdefault(field, []).extend(error.messages)
    return errors


def _last_field(condition) -> str | None:
    for child in reversed(getattr(condition, "children", [])):
        if isinstance(child, tuple):
            return child[0].split("__")[0]
        found = _last_field(child)
        if found:
            return found
    return None


class CuratedModelResource(resources.ModelResource):
    """Base resource: natural-key rows, service saves, the importing user in the audit log."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.actor = None

    class Meta:
        import_id_fields = ("slug",)
        exclude = BOOKKEEPING_FIELDS
        skip_unchanged = True
        report_skipped = True
        clean_model_instances = True
        use_transactions = True

    def before_import(self, dataset, **kwargs):
        self.actor = kwargs.get("user")
        set_actor(self.actor)

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        for field, messages in constraint_errors(instance).items():
            # A field that already failed to parse keeps that (more precise) message.
            errors.setdefault(field, messages)
        super().validate_instance(instance, errors, validate_unique=validate_unique)

    def do_instance_save(self, instance, is_create):
        # Same path as admin and API writes: lock, version bump, full_clean, audited save.
        curated_save(instance, actor=self.actor, expected_version=None)

    def delete_instance(self, instance, row, **kwargs):
        raise ValidationError("Deleting through import is not supported; use the admin.")


class RegionResource(CuratedModelResource):
    parent = slug_fk("parent", Region)
    aliases = list_field("aliases")

    class Meta(CuratedModelResource.Meta):
        model = Region
        exclude = (*BOOKKEEPING_FIELDS, "path", "depth")
