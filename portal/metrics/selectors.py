"""Reads of derived metrics for pages, the API and tests (through `Figure`, which serves the
investment figures live from their cells)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import DecimalField, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from portal.models import Figure, MetricSnapshot


def metrics_for(subject_type: str, subject_id: int | None = None, name: str | None = None):
    queryset = Figure.objects.filter(subject_type=subject_type, subject_id=subject_id)
    return queryset.filter(name=name) if name else queryset


def metric_value(
    subject_type: str, subject_id: int | None, name: str, **dimensions
) -> Decimal | None:
    """One figure by its exact dimensions; None when no row (nothing counted)."""
    row = (
        metrics_for(subject_type, subject_id, name)
        .filter(dimensions=dimensions)
        .values_list("value", flat=True)
        .first()
    )
    return row


def metric_table(subject_type: str, subject_id: int | None = None) -> dict:
    """{name: {dimensions_key: value}} for one subject, e.g. for a detail page."""
    table: dict[str, dict[str, Decimal]] = {}
    for name, key, value in metrics_for(subject_type, subject_id).values_list(
        "name", "dimensions_key", "value"
    ):
        table.setdefault(name, {})[key] = value
    return table


def metric_sum(subject_type: str, subject_id: int | None, name: str, **dimensions) -> Decimal:
    """Sum of a metric over the dimensions not given (e.g. investment over all years), in
    SQL. Callers must fix `amount_kind` for money: kinds are never added up."""
    if name.startswith("investment_total") and "amount_kind" not in dimensions:
        raise ValueError("fix amount_kind: different amount kinds are never summed")
    total = (
        metrics_for(subject_type, subject_id, name)
        .filter(dimensions__contains=dimensions)
        .aggregate(total=Sum("value"))["total"]
    )
    return total or Decimal(0)


def metric_history(subject_type: str, subject_id: int | None, name: str, dimensions_key: str):
    """One figure over time: the subject's history rows that rewrote it, oldest first, each
    with `value` (None where the figure disappeared)."""
    figure = MetricSnapshot.figure_key(name, dimensions_key)
    return (
        MetricSnapshot.objects.filter(
            subject_type=subject_type, subject_id=subject_id, figures__has_key=figure
        )
        .annotate(
            value=Cast(
                KeyTextTransform(figure, "figures"), DecimalField(max_digits=28, decimal_places=4)
            )
        )
        .order_by("recorded_at", "id")
    )
