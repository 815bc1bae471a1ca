"""Writes of the policies app; every path (admin, API, commands, tasks) goes through these."""

from collections.abc import Mapping
from typing import Any

from policies.models import (
    Policy,
    PolicyRelation,
    PolicyTarget,
    Provision,
    SubsidyCapGroup,
    SubsidyRule,
)
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
