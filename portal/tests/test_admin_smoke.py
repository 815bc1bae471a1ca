"""Every admin page of every registered model renders for a curator."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def curator_client(client):
    client.force_login(factories.StaffUserFactory(username="curator"))
    return client


def _populated():
    region = factories.RegionFactory()
    company = factories.CompanyFactory(registered_region=region)
    facility = factories.FacilityFactory(company=company, region=region)
    factories.FacilityStatusChangeFactory(facility=facility)
    project = factories.InvestmentProjectFactory(company=company, region=region)
    milestone = factories.RegulatoryMilestoneFactory(region=region)
    provision = factories.ProvisionFactory(policy__jurisdiction=region)
    rule = factories.SubsidyRuleFactory(provision=provision)
    factories.CitationFactory(subject=company)
    factories.AuthorityFactory()
    factories.ReportedFigureFactory(subject=region)
    factories.ExchangeRateFactory()
    factories.SubsidyCapGroupFactory()
    factories.PolicyTargetFactory(policy=provision.policy)
    return [region, company, facility, project, milestone, provision, provision.policy, rule]


@pytest.mark.parametrize("model", list(admin.site._registry), ids=lambda m: m._meta.label)
def test_changelist_add_and_change_pages_render(curator_client, model):
    objects = _populated()
    opts = model._meta
    response = curator_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    assert response.status_code == 200
    model_admin = admin.site._registry[model]
    if model_admin.has_add_permission(response.wsgi_request):
        add = curator_client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
        assert add.status_code == 200
    instance = next((obj for obj in objects if isinstance(obj, model)), None)
    if instance is None:
        instance = model.objects.first()
    if instance is not None:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[instance.pk])
        assert curator_client.get(url).status_code == 200
        history = reverse(f"admin:{opts.app_label}_{opts.model_name}_history", args=[instance.pk])
        assert curator_client.get(history).status_code == 200
