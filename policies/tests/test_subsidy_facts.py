"""Facts from the database: region paths, company facts, company estimates, query counts."""

import datetime
from decimal import Decimal

import pytest

from policies.engine import RegionRef
from policies.selectors import region_paths, subsidy_facts_for_company, subsidy_rules_for_engine
from policies.services import SubsidyScenarioError, subsidy_estimate_for_company
from policies.tests.subsidy_support import (
    CAP_GROUP,
    INSURANCE_RULE,
    PRODUCT_RULE,
    make_car_t_company,
    make_regions,
    make_rules,
)
from tests.factories import (
    FacilityFactory,
    InvestmentProjectFactory,
    OwnershipPeriodFactory,
    ProductFactory,
    RegulatoryMilestoneFactory,
)

pytestmark = pytest.mark.django_db


def _result(estimate: dict, code: str) -> dict:
    return next(result for result in estimate["results"] if result["rule"] == code)


def test_region_paths_maps_each_slug_to_its_path_in_one_query(django_assert_num_queries):
    make_regions()
    with django_assert_num_queries(1):
        paths = region_paths()
    assert paths["pudong"] == ("china", "shanghai", "pudong")
    assert paths["beijing"] == ("china", "beijing")
    assert paths["china"] == ("china",)


def test_company_facts_from_the_database():
    regions = make_regions()
    company = make_car_t_company(regions)
    OwnershipPeriodFactory(
        company=company,
        ownership_type="domestic",
        effective_from=None,
        effective_to=datetime.date(2023, 6, 30),
    )
    OwnershipPeriodFactory(
        company=company, ownership_type="foreign_invested", effective_from=datetime.date(2023, 7, 1)
    )

    facts = subsidy_facts_for_company(company=company, year=2023)

    assert facts.as_of == datetime.date(2023, 12, 31)
    assert facts.company.registered_region == RegionRef("pudong", ("china", "shanghai", "pudong"))
    assert facts.company.ownership == "foreign_invested"  # the type in force at year end
    assert facts.company.modalities == {"car_t", "cell_therapy"}
    events = {event.reference: event for event in facts.events}
    assert set(events) == {
        "milestone:cart-co-p1-ma",
        "milestone:cart-co-p1-launch",
        "milestone:cart-co-p2-ma",
    }
    launched = events["milestone:cart-co-p1-ma"]
    assert launched.kind == "market_authorization"
    assert launched.product == "cart-co-p1"
    assert launched.modality == {"car_t", "cell_therapy"}
    # The authorization is NMPA's (china); where it is sold comes from the launch milestone.
    assert launched.commercialized_in.path == ("china", "shanghai")
    assert events["milestone:cart-co-p2-ma"].commercialized_in is None
    assert events["milestone:cart-co-p1-launch"].kind == "commercialization"


def test_ownership_with_an_open_start_loses_to_a_later_period_in_force():
    regions = make_regions()
    company = make_car_t_company(regions, products=0)
    OwnershipPeriodFactory(company=company, ownership_type="domestic", effective_from=None)
    OwnershipPeriodFactory(
        company=company, ownership_type="joint_venture", effective_from=datetime.date(2023, 1, 1)
    )
    assert subsidy_facts_for_company(company=company, year=2023).company.ownership == (
        "joint_venture"
    )
    assert subsidy_facts_for_company(company=company, year=2022).company.ownership == "domestic"


def test_company_estimate_two_products_one_launched_in_shanghai():
    """Hand-computed: only the launched product qualifies, CNY 30,000,000 (the 'up to' ceiling);
    the other is missing where it is commercialised; no premium data, so no insurance subsidy."""
    regions, _ = make_rules()
    company = make_car_t_company(regions, products=2, launched=1)

    estimate = subsidy_estimate_for_company(company=company, year=2023)

    assert estimate["as_of"] == "2023-12-31"
    assert estimate["total"] == "30000000.00"
    assert estimate["by_year"] == {"2023": "30000000.00"}
    product = _result(estimate, PRODUCT_RULE)
    assert product["status"] == "eligible"
    assert [(i["product"], i["amount_after_caps"]) for i in product["items"]] == [
        ("cart-co-p1", "30000000.00")
    ]
    codes = {(reason["code"], reason["subject"]) for reason in product["reasons"]}
    assert ("missing_input", "milestone:cart-co-p2-ma") in codes
    assert ("up_to_ceiling", PRODUCT_RULE) in codes
    missing = [c for c in product["trace"]["conditions"] if c["outcome"] == "missing"]
    assert [(c["subject"], c["fact"]) for c in missing] == [
        ("milestone:cart-co-p2-ma", "event.commercialized_in")
    ]
    insurance = _result(estimate, INSURANCE_RULE)
    assert insurance["status"] == "ineligible"
    assert insurance["amount_after_caps"] == "0.00"
    assert [reason["code"] for reason in insurance["reasons"]] == ["no_qualifying_event"]


def test_company_estimate_before_the_authorisations_is_zero():
    regions, _ = make_rules()
    company = make_car_t_company(regions)
    estimate = subsidy_estimate_for_company(company=company, year=2022)
    assert estimate["total"] == "0.00"
    assert subsidy_facts_for_company(company=company, year=2022).events == ()


def test_company_estimate_hits_the_annual_entity_cap():
    """Four launched products in 2023: 4 x 30M = 120M before caps, 100M after the entity cap;
    the fourth (latest) authorisation gets the remaining 10M."""
    regions, _ = make_rules()
    company = make_car_t_company(regions, products=4, launched=4)

    product = _result(subsidy_estimate_for_company(company=company, year=2023), PRODUCT_RULE)

    assert product["status"] == "capped"
    assert product["amount_before_caps"] == "120000000.00"
    assert product["amount_after_caps"] == "100000000.00"
    assert [i["amount_after_caps"] for i in product["items"]] == [
        "30000000.00",
        "30000000.00",
        "30000000.00",
        "10000000.00",
    ]
    assert product["items"][-1]["capped_by"] == [CAP_GROUP]
    (cap,) = product["trace"]["caps"]
    assert (cap["code"], cap["year"], cap["limit"], cap["bound"]) == (
        CAP_GROUP,
        2023,
        "100000000.00",
        True,
    )


def test_launches_in_two_cities_count_the_product_once():
    regions, _ = make_rules()
    company = make_car_t_company(regions, products=1, launched=1)
    RegulatoryMilestoneFactory(
        slug="cart-co-p1-launch-beijing",
        product=company.products.get(),
        kind="commercial_launch",
        date=datetime.date(2023, 7, 1),
        region=regions["beijing"],
    )
    product = _result(subsidy_estimate_for_company(company=company, year=2023), PRODUCT_RULE)
    assert product["amount_after_caps"] == "30000000.00"
    assert [item["reference"] for item in product["items"]] == ["milestone:cart-co-p1-ma@shanghai"]
    failed = [r for r in product["reasons"] if r["code"] == "condition_failed"]
    assert [r["subject"] for r in failed] == ["milestone:cart-co-p1-ma@beijing"]


def test_investment_events_keep_amount_kinds_apart():
    regions = make_regions()
    company = make_car_t_company(regions, products=0)
    facility = FacilityFactory(company=company, region=regions["pudong"], modalities=["car_t"])
    InvestmentProjectFactory(
        slug="capex",
        company=company,
        facility=facility,
        amount=Decimal("250000000.00"),
        currency="CNY",
        amount_kind="capital_expenditure",
        announced_on=datetime.date(2023, 4, 1),
        region=regions["pudong"],
    )
    InvestmentProjectFactory(
        slug="output",
        company=company,
        amount=Decimal("900000000.00"),
        currency="CNY",
        amount_kind="expected_annual_output",
        announced_on=datetime.date(2023, 5, 1),
        region=regions["shanghai"],
    )
    InvestmentProjectFactory(
        slug="cancelled",
        company=company,
        status="cancelled",
        status_since=datetime.date(2023, 6, 1),
        announced_on=datetime.date(2023, 2, 1),
        region=regions["shanghai"],
    )
    InvestmentProjectFactory(
        slug="later",
        company=company,
        announced_on=datetime.date(2024, 2, 1),
        region=regions["china"],
    )

    events = {e.reference: e for e in subsidy_facts_for_company(company=company, year=2023).events}

    assert set(events) == {"project:capex", "project:output"}
    capex = events["project:capex"]
    assert (capex.kind, capex.amount, capex.currency) == ("investment", Decimal("250000000"), "CNY")
    assert capex.located_in.path == ("china", "shanghai", "pudong")
    assert capex.modality == {"car_t", "cell_therapy"}
    # An expected annual output value is not money invested: the amount stays unknown.
    assert (events["project:output"].amount, events["project:output"].currency) == (None, None)


def test_bad_year_is_a_field_error():
    regions = make_regions()
    company = make_car_t_company(regions, products=0)
    for year in (0, 10000, "2023", True):
        with pytest.raises(SubsidyScenarioError) as caught:
            subsidy_estimate_for_company(company=company, year=year)
        assert list(caught.value.errors) == ["year"]


def _grow(company, regions, count: int) -> None:
    """More products, milestones and projects for the query-count comparison."""
    for index in range(count):
        product = ProductFactory(slug=f"extra-{index}", company=company, modality="nk_cell")
        for kind, month in (("clinical_trial_approval", 1), ("market_authorization", 5)):
            RegulatoryMilestoneFactory(
                slug=f"extra-{index}-{kind.replace('_', '-')}",
                product=product,
                kind=kind,
                date=datetime.date(2023, month, 1 + index),
                region=regions["china"],
            )
        RegulatoryMilestoneFactory(
            slug=f"extra-{index}-launch",
            product=product,
            kind="commercial_launch",
            date=datetime.date(2023, 9, 1 + index),
            region=regions["pudong"],
        )
        InvestmentProjectFactory(
            slug=f"extra-project-{index}", company=company, region=regions["shanghai"]
        )


@pytest.mark.parametrize("extra", [0, 8])
def test_query_count_does_not_grow_with_the_data(extra, django_assert_num_queries):
    regions, _ = make_rules()
    company = make_car_t_company(regions, products=2, launched=1)
    _grow(company, regions, extra)

    # regions, ownership, milestones with products, projects with facilities
    with django_assert_num_queries(4):
        facts = subsidy_facts_for_company(company=company, year=2024)
    assert len(facts.events) == 3 + 4 * extra
    # rules with provision, policy and cap group; rule, provision and policy citations
    with django_assert_num_queries(4):
        rules, groups = subsidy_rules_for_engine(as_of=datetime.date(2024, 12, 31))
    assert len(rules) == 2 and len(groups) == 1
    with django_assert_num_queries(8):
        subsidy_estimate_for_company(company=company, year=2024)
