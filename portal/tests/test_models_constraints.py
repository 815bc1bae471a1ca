"""The database itself refuses bad data, even when full_clean is bypassed."""

import datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from companies.models import Company
from policies.models import Policy, SubsidyCapGroup
from portal.models import ExchangeRate, Region
from projects.models import InvestmentProject
from tests import factories

pytestmark = pytest.mark.django_db


def _refused(constraint: str, write) -> None:
    with pytest.raises(IntegrityError) as error, transaction.atomic():
        write()
    # The constraint name comes from PostgreSQL's diagnostics (triggers name it too).
    assert error.value.__cause__.diag.constraint_name == constraint


def test_negative_project_amount_is_refused():
    project = factories.InvestmentProjectFactory()
    _refused(
        "project_amount_not_negative",
        lambda: InvestmentProject.objects.filter(pk=project.pk).update(amount=Decimal("-1")),
    )


def test_negative_cap_group_amount_is_refused():
    group = factories.SubsidyCapGroupFactory()
    _refused(
        "subsidy_cap_group_amount_not_negative",
        lambda: SubsidyCapGroup.objects.filter(pk=group.pk).update(amount=Decimal("-0.01")),
    )


def test_unknown_currency_code_is_refused():
    project = factories.InvestmentProjectFactory()
    _refused(
        "project_currency_iso4217",
        lambda: InvestmentProject.objects.filter(pk=project.pk).update(currency="XYZ"),
    )


def test_unknown_exchange_rate_currency_is_refused():
    _refused(
        "exchange_rate_currency_iso4217",
        lambda: ExchangeRate.objects.bulk_create(
            [ExchangeRate(currency="ABC", date=datetime.date(2024, 1, 1), rate_to_cny=1)]
        ),
    )


def test_policy_expiring_before_it_takes_effect_is_refused():
    policy = factories.PolicyFactory(effective_from=datetime.date(2022, 11, 10))
    _refused(
        "policy_expires_after_effective",
        lambda: Policy.objects.filter(pk=policy.pk).update(expires_on=datetime.date(2022, 11, 9)),
    )


def test_duplicate_company_slug_is_refused():
    factories.CompanyFactory(slug="astrazeneca")
    region = factories.RegionFactory()
    _refused(
        "company_unique_slug",
        lambda: Company.objects.bulk_create(
            [Company(slug="astrazeneca", name_en="Another", registered_region=region)]
        ),
    )


def test_duplicate_region_slug_is_refused():
    factories.RegionFactory(slug="pudong")
    _refused(
        "region_unique_slug",
        lambda: Region.objects.bulk_create([Region(slug="pudong", kind="district", name_en="X")]),
    )


def test_moving_a_region_under_its_own_descendant_is_refused():
    china = factories.RegionFactory(slug="china", kind="country")
    shanghai = factories.RegionFactory(slug="shanghai", kind="municipality", parent=china)
    pudong = factories.RegionFactory(slug="pudong", kind="district", parent=shanghai)
    _refused(
        "region_not_own_ancestor",
        lambda: Region.objects.filter(pk=china.pk).update(parent=pudong),
    )
    china.refresh_from_db()
    assert china.parent_id is None


def test_a_region_cannot_be_its_own_parent():
    region = factories.RegionFactory()
    _refused(
        "region_not_own_ancestor",  # the path trigger runs before the CHECK
        lambda: Region.objects.filter(pk=region.pk).update(parent=region),
    )


def test_park_is_within_each_of_its_ancestors_and_not_beside_them():
    china = factories.RegionFactory(slug="china", kind="country")
    shanghai = factories.RegionFactory(slug="shanghai", kind="municipality", parent=china)
    pudong = factories.RegionFactory(slug="pudong", kind="district", parent=shanghai)
    park = factories.RegionFactory(slug="zhangjiang", kind="park", parent=pudong)
    beijing = factories.RegionFactory(slug="beijing", kind="municipality", parent=china)

    for ancestor in (china, shanghai, pudong, park):
        assert Region.objects.within(ancestor).filter(pk=park.pk).exists()
    assert not Region.objects.within(beijing).filter(pk=park.pk).exists()
    assert set(Region.objects.within(shanghai)) == {shanghai, pudong, park}
    assert list(Region.objects.ancestors_of(park)) == [china, shanghai, pudong, park]


def test_moving_a_subtree_moves_the_paths_of_every_descendant():
    china = factories.RegionFactory(slug="china", kind="country")
    shanghai = factories.RegionFactory(slug="shanghai", kind="municipality", parent=china)
    pudong = factories.RegionFactory(slug="pudong", kind="district", parent=shanghai)
    park = factories.RegionFactory(slug="zhangjiang", kind="park", parent=pudong)
    jiangsu = factories.RegionFactory(slug="jiangsu", kind="province", parent=china)

    Region.objects.filter(pk=pudong.pk).update(parent=jiangsu)

    park.refresh_from_db()
    assert park.path == f"/{china.pk}/{jiangsu.pk}/{pudong.pk}/{park.pk}/"
    assert Region.objects.within(jiangsu).filter(pk=park.pk).exists()
    assert not Region.objects.within(shanghai).filter(pk=park.pk).exists()
