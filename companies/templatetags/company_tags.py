"""Labels of company vocabularies stored as arrays (choice fields have get_*_display)."""

from django import template

from companies.choices import Modality

register = template.Library()
_MODALITIES = dict(Modality.choices)


@register.filter
def modality_labels(values):
    """["car_t", "gene_therapy"] -> ["CAR-T", "Gene therapy"] in the active language."""
    return [str(_MODALITIES.get(value, value)) for value in values or []]


@register.filter
def modality_label(value):
    return str(_MODALITIES.get(value, value)) if value else ""


@register.filter
def ownership_label(value):
    from companies.choices import OwnershipType

    return str(dict(OwnershipType.choices).get(value, value)) if value else ""
