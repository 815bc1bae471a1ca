"""Policy target progress and subsidy exposure (see portal/tests/metrics_dataset.py)."""

import datetime
from decimal import Decimal

import pytest

from portal.metrics import services
from portal.tests.metrics_dataset import build, key, values
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    return build()


def progress(policy, slug):
    got = values("policy", policy.pk)
    target = key(target=slug)
    return (
        got[("target_actual", target)],
        got[("target_met", target)],
        got.get(("target_share", target)),
    )


def test_target_progress_against_actuals(data):
    services.recompute_all()
    # Three clinical trial approvals by Shanghai companies in 2022-2024 vs "more than 20".
    assert progress(data.plan, "t1") == (3, 0, Decimal("0.15"))
    # F1 became operational in 2023 in Zhangjiang, inside Pudong.
    assert progress(data.plan, "t2") == (1, 1, 1)
    assert progress(data.plan, "t3") == (2, 1, 1)
    # 500M CNY capital expenditure in 2024 = 5 × "CNY 100 million" (commitments excluded).
    assert progress(data.plan, "t4") == (5, 1, Decimal("1.6667"))


def test_target_moves_when_a_qualifying_event_is_added(data):
    services.recompute_all()
    factories.RegulatoryMilestoneFactory(
        slug="v-cta",
        product=factories.ProductFactory(slug="v", company=data.b),
        kind="clinical_trial_approval",
        date=datetime.date(2024, 1, 10),
        region=data.china,
    )
    services.recompute_subjects([("policy", data.plan.pk)])
    assert progress(data.plan, "t1")[0] == 4


def test_portal_policies_in_force(data):
    services.recompute_all()
    assert values("portal", None)[("policies_in_force", "{}")] == 1  # the expired one is not


def test_subsidy_exposure_sums_engine_amounts_of_the_policy_rules(data, monkeypatch):
    provision = factories.ProvisionFactory(policy=data.plan)
    factories.SubsidyRuleFactory(code="plan-rule", provision=provision)
    calls = []

    def fake_estimate(*, company, year):
        calls.append((company.slug, year))
        amount = {"company-a": "1000.00", "company-b": "250.00"}[company.slug]
        return {
            "total": amount,
            "results": [
                {"rule": "plan-rule", "by_year": {str(year): {"amount_after_caps": amount}}},
                # Another policy's rule: never counted in this policy's exposure.
                {"rule": "other", "by_year": {str(year): {"amount_after_caps": "99999"}}},
            ],
        }

    monkeypatch.setattr("policies.services.subsidy_estimate_for_company", fake_estimate)
    services.recompute_all()
    got = values("policy", data.plan.pk)
    # A has events in 2022, 2023, 2024, 2025; B in 2023 (P5, W's approval): both in Shanghai.
    assert got[("subsidy_exposure", key(year=2023))] == 1250
    assert got[("subsidy_exposure", key(year=2024))] == 1000
    # Only companies with qualifying events inside the policy's jurisdiction are estimated.
    assert {slug for slug, _ in calls} == {"company-a", "company-b"}
    assert len(calls) == len(set(calls))
