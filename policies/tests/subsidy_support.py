"""Shared setup for the subsidy tests: regions, the Action Plan with key task 11, its rules."""

import datetime
from pathlib import Path

from policies.engine.task11 import SOURCE_TITLE, TASK_11_TEXT
from policies.subsidy_loading import load_subsidy_rules
from tests.factories import (
    CitationFactory,
    CompanyFactory,
    PolicyFactory,
    ProductFactory,
    ProvisionFactory,
    RegionFactory,
    RegulatoryMilestoneFactory,
    SourceFactory,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES_YAML = REPO_ROOT / "fixtures" / "curated" / "subsidy_rules.yaml"
SOURCE_FILE = REPO_ROOT / "fixtures" / "sources" / "002_1d63a8ab57155fe3.txt"
POLICY_SLUG = "shanghai-cell-therapy-action-plan-2022-2024"
PRODUCT_RULE = "sh-cell-therapy-2022-product-support"
INSURANCE_RULE = "sh-cell-therapy-2022-liability-insurance"
CAP_GROUP = "sh-cell-therapy-2022-annual-entity-cap"


def make_regions() -> dict:
    china = RegionFactory(slug="china", kind="country", name_en="China")
    shanghai = RegionFactory(slug="shanghai", kind="municipality", parent=china)
    pudong = RegionFactory(slug="pudong", kind="district", parent=shanghai)
    beijing = RegionFactory(slug="beijing", kind="municipality", parent=china)
    return {"china": china, "shanghai": shanghai, "pudong": pudong, "beijing": beijing}


def make_action_plan(regions: dict):
    """The Action Plan as the curated dataset has it: source, policy and provision IV.11."""
    source = SourceFactory(
        key="action-plan-2022", seed_file="002_1d63a8ab57155fe3.txt", title=SOURCE_TITLE
    )
    policy = PolicyFactory(
        slug=POLICY_SLUG,
        title_en=SOURCE_TITLE,
        jurisdiction=regions["shanghai"],
        published_on=datetime.date(2022, 11, 10),
        effective_from=datetime.date(2022, 11, 10),
        expires_on=datetime.date(2024, 12, 31),
    )
    CitationFactory(subject=policy, source=source, excerpt=SOURCE_TITLE)
    provision = ProvisionFactory(
        policy=policy, path="IV.11", order=11, text=TASK_11_TEXT, kind="subsidy"
    )
    return source, policy, provision


def make_rules(actor=None):
    """Regions, the Action Plan and the two task-11 rules loaded from the curated YAML."""
    regions = make_regions()
    _, _, provision = make_action_plan(regions)
    load_subsidy_rules(path=RULES_YAML, actor=actor)
    return regions, provision


def make_car_t_company(regions: dict, *, products: int = 2, launched: int = 1, slug="cart-co"):
    """A Pudong-registered CAR-T company whose products were all authorised by NMPA in 2023.

    The first `launched` products also had a commercial launch in Shanghai in 2023.
    """
    company = CompanyFactory(slug=slug, registered_region=regions["pudong"], modalities=["car_t"])
    for index in range(products):
        product = ProductFactory(slug=f"{slug}-p{index + 1}", company=company, modality="car_t")
        RegulatoryMilestoneFactory(
            slug=f"{product.slug}-ma",
            product=product,
            kind="market_authorization",
            date=datetime.date(2023, 3, 1) + datetime.timedelta(days=10 * index),
            region=regions["china"],
        )
        if index < launched:
            RegulatoryMilestoneFactory(
                slug=f"{product.slug}-launch",
                product=product,
                kind="commercial_launch",
                date=datetime.date(2023, 8, 1) + datetime.timedelta(days=index),
                region=regions["shanghai"],
            )
    return company
