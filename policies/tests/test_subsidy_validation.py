"""SubsidyRule / SubsidyCapGroup validation on save: field errors for admin and API."""

import copy
import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms import modelform_factory

from policies.engine.task11 import (
    LIABILITY_INSURANCE_EXCERPT,
    PRODUCT_SUPPORT_EXCERPT,
    PRODUCT_SUPPORT_RULE,
)
from policies.models import SubsidyCapGroup, SubsidyRule
from policies.selectors import subsidy_rules_for_engine
from policies.services import (
    subsidy_cap_group_create,
    subsidy_cap_group_update,
    subsidy_rule_create,
    subsidy_rule_update,
)
from policies.tests.subsidy_support import make_action_plan, make_regions
from tests.factories import PolicyFactory, ProvisionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def provision():
    _, _, provision = make_action_plan(make_regions())
    return provision


def _data(provision, **changes) -> dict:
    data = {
        "code": "product-support",
        "name": "Product support",
        "provision": provision,
        "provision_excerpt": PRODUCT_SUPPORT_EXCERPT,
        "currency": "CNY",
        "conditions": copy.deepcopy(PRODUCT_SUPPORT_RULE["conditions"]),
        "benefit": {"kind": "up_to", "amount": "30000000", "item": "product"},
    }
    data.update(changes)
    return data


def _errors(provision, **changes) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        subsidy_rule_create(actor=None, data=_data(provision, **changes))
    return caught.value.message_dict


def test_a_valid_rule_saves(provision):
    rule = subsidy_rule_create(actor=None, data=_data(provision))
    assert rule.pk is not None


def test_unknown_region_slug_names_the_condition(provision):
    conditions = copy.deepcopy(PRODUCT_SUPPORT_RULE["conditions"])
    conditions[0]["value"] = "atlantis"
    errors = _errors(provision, conditions=conditions)
    assert errors == {"conditions": ["conditions[0].value: unknown region slug 'atlantis'"]}


def test_unknown_modality_names_the_list_position(provision):
    conditions = copy.deepcopy(PRODUCT_SUPPORT_RULE["conditions"])
    conditions[2]["value"] = ["cell_therapy", "teleportation"]
    errors = _errors(provision, conditions=conditions)
    assert errors == {"conditions": ["conditions[2].value[1]: unknown modality 'teleportation'"]}


def test_condition_vocabulary_is_fixed(provision):
    conditions = [
        {"fact": "event.kind", "op": "eq", "value": "market_authorization"},
        {"fact": "company.registered_region", "op": "eq", "value": "shanghai"},
        {"fact": "__import__('os')", "op": "eq", "value": "x"},
    ]
    messages = _errors(provision, conditions=conditions)["conditions"]
    assert messages[0].startswith("conditions[1].op: 'eq' cannot be used")
    assert messages[1].startswith("conditions[2].fact: ")
    assert len(messages) == 2


def test_conditions_must_name_the_event_kind(provision):
    conditions = [{"fact": "company.registered_region", "op": "within", "value": "shanghai"}]
    assert _errors(provision, conditions=conditions) == {
        "conditions": ["must include an event.kind condition"]
    }


def test_conditions_must_be_a_list(provision):
    assert _errors(provision, conditions={"fact": "event.kind"}) == {
        "conditions": ["must be a list of conditions"]
    }


def test_benefit_errors_name_the_key(provision):
    errors = _errors(provision, benefit={"kind": "percentage", "rate": "1.5"})
    assert errors == {"benefit": ["benefit.rate: must be greater than 0 and at most 1"]}
    errors = _errors(provision, benefit={"kind": "up_to"})
    assert errors == {"benefit": ["benefit.amount: is required for a up_to benefit"]}


def test_excerpt_must_be_verbatim_from_the_provision(provision):
    errors = _errors(provision, provision_excerpt="financial assistance of up to 50 million yuan")
    assert errors == {"provision_excerpt": ["must appear verbatim in provision.text"]}
    # Whitespace counts: the engine compares exactly, so the DB must too.
    spaced = PRODUCT_SUPPORT_EXCERPT.replace(" obtain ", "  obtain ")
    assert list(_errors(provision, provision_excerpt=spaced)) == ["provision_excerpt"]


def test_currency_must_be_active_iso_4217(provision):
    errors = _errors(provision, currency="XAU")
    assert errors == {"currency": ["'XAU' is not an active ISO 4217 currency code"]}


def test_cap_group_currency_must_equal_the_rule_currency(provision):
    group = subsidy_cap_group_create(
        actor=None, data={"code": "usd-cap", "name": "USD cap", "amount": "5", "currency": "USD"}
    )
    errors = _errors(provision, cap_group=group)
    assert list(errors) == ["cap_group"]
    assert "usd-cap is in USD, the rule in CNY" in errors["cap_group"][0]


def test_effective_dates_must_lie_inside_the_policy(provision):
    errors = _errors(
        provision,
        effective_from=datetime.date(2022, 1, 1),
        effective_to=datetime.date(2025, 6, 30),
    )
    assert errors == {
        "effective_from": ["must not be before the policy takes effect (2022-11-10)"],
        "effective_to": ["must not be after the policy expires (2024-12-31)"],
    }
    errors = _errors(
        provision, effective_from=datetime.date(2024, 1, 1), effective_to=datetime.date(2023, 1, 1)
    )
    assert errors == {"effective_to": ["must not be before effective_from"]}


def test_effective_dates_default_to_the_policy(provision):
    subsidy_rule_create(actor=None, data=_data(provision))
    (rule,), _ = subsidy_rules_for_engine()
    assert (rule.effective_from, rule.effective_to) == (
        datetime.date(2022, 11, 10),
        datetime.date(2024, 12, 31),
    )


def test_a_start_date_is_required_when_the_policy_has_none(provision):
    policy = PolicyFactory(effective_from=None, published_on=None, expires_on=None)
    undated = ProvisionFactory(policy=policy, text=f"Intro. {LIABILITY_INSURANCE_EXCERPT}")
    errors = _errors(undated, provision_excerpt=LIABILITY_INSURANCE_EXCERPT)
    assert errors == {
        "effective_from": ["is required: the policy has no effective or publication date"]
    }
    rule = subsidy_rule_create(
        actor=None,
        data=_data(
            undated,
            provision_excerpt=LIABILITY_INSURANCE_EXCERPT,
            effective_from=datetime.date(2023, 1, 1),
        ),
    )
    assert rule.pk is not None


def test_a_policy_repeal_ends_the_rule(provision):
    subsidy_rule_create(actor=None, data=_data(provision))
    policy = provision.policy
    policy.repealed_on = datetime.date(2024, 7, 1)
    policy.save()
    (rule,), _ = subsidy_rules_for_engine()
    assert rule.effective_to == datetime.date(2024, 6, 30)


def test_update_is_validated_too(provision):
    rule = subsidy_rule_create(actor=None, data=_data(provision))
    with pytest.raises(ValidationError) as caught:
        subsidy_rule_update(
            rule=rule, actor=None, expected_version=rule.version, data={"benefit": {"kind": "x"}}
        )
    assert list(caught.value.message_dict) == ["benefit"]


def test_admin_form_shows_field_errors(provision):
    """Admin model forms refuse errors keyed by a non-field; every key must be a model field."""
    form_class = modelform_factory(
        SubsidyRule,
        fields=[
            "code",
            "name",
            "provision",
            "provision_excerpt",
            "conditions",
            "benefit",
            "currency",
        ],
    )
    conditions = copy.deepcopy(PRODUCT_SUPPORT_RULE["conditions"])
    conditions[3]["value"] = "atlantis"
    form = form_class(
        data={
            "code": "form-rule",
            "name": "Form rule",
            "provision": provision.pk,
            "provision_excerpt": PRODUCT_SUPPORT_EXCERPT,
            "conditions": json.dumps(conditions),
            "benefit": '{"kind": "up_to", "amount": "-1"}',
            "currency": "CNY",
        }
    )
    assert not form.is_valid()
    assert form.errors["conditions"] == ["conditions[3].value: unknown region slug 'atlantis'"]
    assert form.errors["benefit"] == ["benefit.amount: must be a non-negative decimal number"]


def test_cap_group_validation():
    with pytest.raises(ValidationError) as caught:
        subsidy_cap_group_create(
            actor=None,
            data={"code": "cap", "name": "Cap", "amount": Decimal("-5"), "currency": "ABC"},
        )
    errors = caught.value.message_dict
    assert errors["amount"] == ["must be a non-negative decimal number"]
    assert errors["currency"] == ["'ABC' is not an active ISO 4217 currency code"]


def test_cap_group_currency_cannot_leave_its_rules_behind(provision):
    group = subsidy_cap_group_create(
        actor=None, data={"code": "cap", "name": "Cap", "amount": "100000000", "currency": "CNY"}
    )
    subsidy_rule_create(actor=None, data=_data(provision, cap_group=group))
    with pytest.raises(ValidationError) as caught:
        subsidy_cap_group_update(
            group=group, actor=None, expected_version=group.version, data={"currency": "USD"}
        )
    assert caught.value.message_dict == {
        "currency": ["rules product-support of this cap group use another currency"]
    }
    assert SubsidyCapGroup.objects.get().currency == "CNY"
