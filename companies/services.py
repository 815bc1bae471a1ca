"""Writes of the companies app; every path (admin, API, commands, tasks) goes through these."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from companies.models import (
    BusinessScopeEvent,
    Company,
    CompanyAlias,
    Facility,
    FacilityStatusChange,
    OwnershipPeriod,
    StockListing,
)
from portal.services import curated_create, curated_delete, curated_save, curated_update


def company_create(*, actor, data: Mapping[str, Any]) -> Company:
    return curated_create(Company, actor=actor, data=data)


def company_update(*, company: Company, actor, expected_version: int | None, data) -> Company:
    return curated_update(company, actor=actor, expected_version=expected_version, data=data)


def company_delete(*, company: Company, actor, expected_version: int | None) -> None:
    curated_delete(company, actor=actor, expected_version=expected_version)


def company_alias_create(*, actor, data: Mapping[str, Any]) -> CompanyAlias:
    return curated_create(CompanyAlias, actor=actor, data=data)


def ownership_period_create(*, actor, data: Mapping[str, Any]) -> OwnershipPeriod:
    return curated_create(OwnershipPeriod, actor=actor, data=data)


def stock_listing_create(*, actor, data: Mapping[str, Any]) -> StockListing:
    return curated_create(StockListing, actor=actor, data=data)


def business_scope_event_create(*, actor, data: Mapping[str, Any]) -> BusinessScopeEvent:
    return curated_create(BusinessScopeEvent, actor=actor, data=data)


def facility_create(*, actor, data: Mapping[str, Any]) -> Facility:
    return curated_create(Facility, actor=actor, data=data)


def facility_update(*, facility: Facility, actor, expected_version: int | None, data) -> Facility:
    return curated_update(facility, actor=actor, expected_version=expected_version, data=data)


def facility_delete(*, facility: Facility, actor, expected_version: int | None) -> None:
    curated_delete(facility, actor=actor, expected_version=expected_version)


def facility_status_change_create(*, actor, data: Mapping[str, Any]) -> FacilityStatusChange:
    """Record a lifecycle step and move the facility's current status to the latest step."""
    with transaction.atomic():
        change = curated_create(FacilityStatusChange, actor=actor, data=data)
        facility_sync_status(facility=change.facility, actor=actor)
    return change


def facility_sync_status(*, facility: Facility, actor) -> Facility:
    """Set `status`/`status_since` from the latest dated status change (no-op when in step)."""
    latest = facility.status_changes.order_by("-date", "-id").first()
    if latest is None or (facility.status, facility.status_since) == (latest.status, latest.date):
        return facility
    facility.status, facility.status_since = latest.status, latest.date
    return curated_save(facility, actor=actor, expected_version=None)
