"""Policy, provision and subsidy rule pages; the calculator."""

import pytest
from django.urls import reverse
from django.utils import translation

from policies.pages import explain_rule, region_names
from policies.tests.page_data import build_world
from tests.factories import RegulatoryMilestoneFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def test_policy_page_outline_anchors_relations_targets(world, client):
    RegulatoryMilestoneFactory(
        product=world.product, kind="market_authorization", region=world.pudong
    )
    body = client.get(world.policy.get_absolute_url()).content.decode()
    assert 'id="IV.11"' in body and 'href="#IV.11"' in body
    assert "In force" in body
    assert world.other_policy.get_absolute_url() in body
    # progress against actuals: 1 authorization in Shanghai's tree (the NMPA one is China's)
    assert "At least 5 cell therapy market authorizations" in body
    assert 'value="20"' in body
    related = client.get(world.other_policy.get_absolute_url()).content.decode()
    assert world.policy.get_absolute_url() in related  # the relation shows in both directions


def test_policy_list_validity_facet(world, client):
    response = client.get(reverse("policies:policy-list"), {"validity": "expired"})
    assert [p.slug for p in response.context["page"].items] == ["national-biotech-plan"]


def test_provision_page_explains_rules_in_words(world, client):
    body = client.get(world.provision.get_absolute_url()).content.decode()
    assert "Shanghai Banking and Insurance Regulatory Bureau" in body
    assert "When the company is registered in Shanghai" in body
    assert "50% of the amount per event, at most CNY 500,000 each" in body


def test_rule_explained_in_chinese(world):
    rule = world.rule
    with translation.override("zh-hans"):
        sentence = explain_rule(rule, region_names([rule]))
    assert "上海" in sentence
    assert "When" not in sentence


def calculator_post(client, **overrides):
    data = {
        "as_of": "2023-12-31",
        "registered_region": "shanghai",
        "ownership": "domestic",
        "modalities": ["cell_therapy"],
        "event-0-kind": "liability_insurance_premium",
        "event-0-date": "2023-03-01",
        "event-0-amount": "1200000",
        "event-0-currency": "CNY",
        "event-1-kind": "market_authorization",
        "event-1-date": "2023-05-10",
        "event-1-product": "P1",
        "event-1-modality": "cell_therapy",
        "event-1-commercialized_in": "shanghai",
    }
    data.update(overrides)
    return client.post(reverse("policies:calculator"), data)


def test_calculator_shows_results_amounts_caps_and_trace(world, client):
    response = calculator_post(client)
    body = response.content.decode()
    estimate = response.context["estimate"]
    assert estimate["total"] == "30500000.00"
    assert "Eligible, capped" in body
    assert "item_cap" in body
    assert "company.registered_region" in body
    assert "Strengthen policy support" not in body or "IV.11" in body
    assert "capped at 500,000 yuan per policy" in body  # the provision excerpt in the trace


def test_calculator_maps_engine_errors_to_fields(world, client):
    response = calculator_post(client, **{"event-0-currency": "XXX"})
    form = response.context["form"]
    assert response.context["estimate"] is None
    assert form.event_forms[0].errors["currency"]


def test_calculator_ignores_blank_rows_and_requires_kind_and_date(world, client):
    response = calculator_post(client, **{"event-2-product": "orphan"})
    form = response.context["form"]
    assert form.event_forms[2].errors["kind"] and form.event_forms[2].errors["date"]
    assert not form.event_forms[3].errors


def test_language_switch_persists_in_the_cookie(world, client):
    response = client.post(reverse("set_language"), {"language": "zh-hans", "next": "/companies/"})
    assert response.status_code == 302
    body = client.get(reverse("policies:policy-list")).content.decode()
    assert "概览" in body and '<html lang="zh-Hans">' in body
    assert "现行有效" in body  # a translated choice label (validity)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Overview" in client.get(reverse("policies:home")).content.decode()
