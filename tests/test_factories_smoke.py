"""Every factory builds a valid, saved record (guards the shared test data builders)."""

import pytest

from tests import factories

ALL_FACTORIES = [
    factories.RegionFactory,
    factories.SourceFactory,
    factories.AuthorityFactory,
    factories.CompanyFactory,
    factories.OwnershipPeriodFactory,
    factories.FacilityFactory,
    factories.FacilityStatusChangeFactory,
    factories.InvestmentProjectFactory,
    factories.ProductFactory,
    factories.RegulatoryMilestoneFactory,
    factories.PolicyFactory,
    factories.ProvisionFactory,
    factories.PolicyTargetFactory,
    factories.SubsidyCapGroupFactory,
    factories.SubsidyRuleFactory,
    factories.ReportedFigureFactory,
    factories.ExchangeRateFactory,
]


@pytest.mark.django_db
@pytest.mark.parametrize("factory_class", ALL_FACTORIES, ids=lambda f: f.__name__)
def test_factory_builds_a_valid_saved_record(factory_class):
    record = factory_class()
    record.full_clean()
    assert record.pk is not None
