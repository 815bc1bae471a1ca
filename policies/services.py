"""Writes of the policies app; every path (admin, API, commands, tasks) goes through these."""

from collections.abc import Mapping
from typing import Any

from policies.engine import ScenarioError, evaluate, parse_scenario
from policies.models import (
    Policy,
    PolicyRelation,
    PolicyTarget,
    Provision,
    SubsidyCapGroup,
    SubsidyRule,
)
from policies.selectors import region_paths, subsidy_facts_for_company, subsidy_rules_for_engine
from policies.subsidy_data import modality_parents
from portal.services import curated_create, curated_delete, curated_update


def policy_create(*, actor, data: Mapping[str, Any]) -> Policy:
    return curated_create(Policy, actor=actor, data=data)


def policy_update(*, policy: Policy, actor, expected_version: int | None, data) -> Policy:
    return curated_update(policy, actor=actor, expected_version=expected_version, data=data)


def policy_delete(*, policy: Policy, actor, expected_version: int | None) -> None:
    curated_delete(policy, actor=actor, expected_version=expected_version)


def provision_create(*, actor, data: Mapping[str, Any]) -> Provision:
    return curated_create(Provision, actor=actor, data=data)


def provision_update(*, provision: Provision, actor, expected_version: int | None, data):
    return curated_update(provision, actor=actor, expected_version=expected_version, data=data)


def policy_relation_create(*, actor, data: Mapping[str, Any]) -> PolicyRelation:
    return curated_create(PolicyRelation, actor=actor, data=data)


def policy_target_create(*, actor, data: Mapping[str, Any]) -> PolicyTarget:
    return curated_create(PolicyTarget, actor=actor, data=data)


def policy_target_update(*, target: PolicyTarget, actor, expected_version: int | None, data):
    return curated_update(target, actor=actor, expected_version=expected_version, data=data)


def subsidy_cap_group_create(*, actor, data: Mapping[str, Any]) -> SubsidyCapGroup:
    return curated_create(SubsidyCapGroup, actor=actor, data=data)


def subsidy_cap_group_update(*, group: SubsidyCapGroup, actor, expected_version: int | None, data):
    return curated_update(group, actor=actor, expected_version=expected_version, data=data)


def subsidy_rule_create(*, actor, data: Mapping[str, Any]) -> SubsidyRule:
    return curated_create(SubsidyRule, actor=actor, data=data)


def subsidy_rule_update(*, rule: SubsidyRule, actor, expected_version: int | None, data):
    return curated_update(rule, actor=actor, expected_version=expected_version, data=data)


# Subsidy estimates -------------------------------------------------------------------------
# Read-only, but services all the same: the one entry point the API, the pages and the
# estimate_subsidies command share, so they can never disagree.


MIN_YEAR, MAX_YEAR = 1900, 2999


class SubsidyScenarioError(ScenarioError):
    """Invalid estimate input; `errors` maps field paths to messages (HTTP 400 material)."""


def subsidy_estimate_for_scenario(*, data: dict) -> dict:
    """Estimate for an investor scenario (docs/subsidy-rules.md) as `Estimate.to_dict()`."""
    try:
        facts = parse_scenario(data, region_paths(), modality_parents())
    except ScenarioError as error:
        raise SubsidyScenarioError(error.errors) from error
    return _estimate(facts)


def subsidy_estimate_for_company(*, company, year: int) -> dict:
    """Estimate for a company from the database, as known at the end of `year`."""
    if isinstance(year, bool) or not isinstance(year, int) or not MIN_YEAR <= year <= MAX_YEAR:
        raise SubsidyScenarioError({"year": [f"must be a year from {MIN_YEAR} to {MAX_YEAR}"]})
    return _estimate(subsidy_facts_for_company(company=company, year=year))


def _estimate(facts) -> dict:
    rules, cap_groups = subsidy_rules_for_engine(as_of=facts.as_of)
    return evaluate(facts, rules, cap_groups).to_dict()
