"""Writes of the projects app; every path (admin, API, commands, tasks) goes through these."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from portal.services import curated_create, curated_delete, curated_save, curated_update
from projects.models import InvestmentProject, Product, ProjectStatusChange, RegulatoryMilestone


def investment_project_create(*, actor, data: Mapping[str, Any]) -> InvestmentProject:
    return curated_create(InvestmentProject, actor=actor, data=data)


def investment_project_update(
    *, project: InvestmentProject, actor, expected_version: int | None, data
) -> InvestmentProject:
    return curated_update(project, actor=actor, expected_version=expected_version, data=data)


def investment_project_delete(
    *, project: InvestmentProject, actor, expected_version: int | None
) -> None:
    curated_delete(project, actor=actor, expected_version=expected_version)


def project_status_change_create(*, actor, data: Mapping[str, Any]) -> ProjectStatusChange:
    """Record a project step and move the project's current status to the latest step."""
    with transaction.atomic():
        change = curated_create(ProjectStatusChange, actor=actor, data=data)
        investment_project_sync_status(project=change.project, actor=actor)
    return change


def investment_project_sync_status(*, project: InvestmentProject, actor) -> InvestmentProject:
    latest = project.status_changes.order_by("-date", "-id").first()
    if latest is None or (project.status, project.status_since) == (latest.status, latest.date):
        return project
    project.status, project.status_since = latest.status, latest.date
    return curated_save(project, actor=actor, expected_version=None)


def product_create(*, actor, data: Mapping[str, Any]) -> Product:
    return curated_create(Product, actor=actor, data=data)


def product_update(*, product: Product, actor, expected_version: int | None, data) -> Product:
    return curated_update(product, actor=actor, expected_version=expected_version, data=data)


def regulatory_milestone_create(*, actor, data: Mapping[str, Any]) -> RegulatoryMilestone:
    return curated_create(RegulatoryMilestone, actor=actor, data=data)


def regulatory_milestone_update(
    *, milestone: RegulatoryMilestone, actor, expected_version: int | None, data
) -> RegulatoryMilestone:
    return curated_update(milestone, actor=actor, expected_version=expected_version, data=data)
