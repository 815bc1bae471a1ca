"""Company and facility QuerySet methods."""

import datetime

import pytest

from companies.models import Company, Facility
from tests import factories


@pytest.mark.django_db
def test_ownership_in_force_prefers_the_latest_dated_period_over_an_open_start():
    company = factories.CompanyFactory()
    factories.OwnershipPeriodFactory(company=company, ownership_type="domestic")
    factories.OwnershipPeriodFactory(
        company=company,
        ownership_type="foreign_invested",
        effective_from=datetime.date(2024, 11, 14),
    )

    on = Company.objects.with_ownership_on

    assert on(datetime.date(2025, 1, 1)).get(pk=company.pk).ownership_type == "foreign_invested"
    assert on(datetime.date(2024, 1, 1)).get(pk=company.pk).ownership_type == "domestic"


@pytest.mark.django_db
def test_within_includes_sub_regions_and_excludes_siblings():
    shanghai = factories.RegionFactory(slug="shanghai", kind="municipality")
    pudong = factories.RegionFactory(slug="pudong", parent=shanghai)
    beijing = factories.RegionFactory(slug="beijing", kind="municipality")
    inside = factories.FacilityFactory(region=pudong)
    factories.FacilityFactory(region=beijing)

    assert list(Facility.objects.within(shanghai)) == [inside]
