"""Subsidy rows <-> the rules engine's plain data: conversion and model validation.

No queries of its own except the region/cap-group checks in the `*_errors` functions that
`SubsidyRule.clean()` and `SubsidyCapGroup.clean()` call. Selectors use `rule_engine_data` on
rows they fetched with their relations, so the engine sees exactly what validation saw.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist

from companies.choices import MODALITY_PARENTS, Modality
from policies.engine import RuleValidationError, parse_cap_group, parse_rule
from policies.engine.rules import FACTS
from portal.models import Region

SOURCES_DIR = "fixtures/sources"
# Stand-ins used while validating: which source backs the rule does not change its validity,
# and a rule is saved before its citations exist.
_PLACEHOLDER_SOURCE = {"source_title": "validation", "source_file": "validation"}
_RULE_FIELDS = ("code", "name", "currency", "effective_from", "effective_to", "cap_group")


def modality_parents() -> dict[str, tuple[str, ...]]:
    """Every modality slug -> its direct parents, for `parse_scenario`."""
    return {
        slug: (str(MODALITY_PARENTS[slug]),) if slug in MODALITY_PARENTS else ()
        for slug in Modality.values
    }


def rule_effective_period(rule) -> tuple[datetime.date | None, datetime.date | None]:
    """The rule's dates, else its policy's; a repeal ends the rule the day before.

    Falls back to the publication date because an action plan "applies from publication" when
    it states no separate effective date (docs/subsidy-rules.md, task-11 dates).
    """
    policy = rule.provision.policy
    start = _as_date(rule.effective_from) or policy.effective_from or policy.published_on
    end = _as_date(rule.effective_to) or policy.expires_on
    if policy.repealed_on is not None:
        last_day = policy.repealed_on - datetime.timedelta(days=1)
        end = last_day if end is None else min(end, last_day)
    return start, end


def _as_date(value: object) -> datetime.date | None:
    """A date field's value, or None while it is still unparsed input (clean_fields failed)."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    return None


def rule_engine_data(rule, *, source_title: str, source_file: str) -> dict:
    """The engine's rule JSON for a SubsidyRule (needs provision, policy, cap_group loaded)."""
    provision = rule.provision
    start, end = rule_effective_period(rule)
    return {
        "code": rule.code,
        "name": rule.name,
        "provision": {
            "path": provision.path,
            "text": provision.text,
            "excerpt": rule.provision_excerpt,
            "source_title": source_title,
            "source_file": source_file,
        },
        "effective_from": start,
        "effective_to": end,
        "currency": rule.currency,
        "conditions": rule.conditions,
        "benefit": rule.benefit,
        "cap_group": rule.cap_group.code if _related_exists(rule, "cap_group") else None,
    }


def cap_group_engine_data(group) -> dict:
    return {
        "code": group.code,
        "amount": None if group.amount is None else format(group.amount, "f"),
        "currency": group.currency,
        "period": group.period,
    }


def source_reference(source) -> tuple[str, str]:
    """(title, file) of a Source as a citation shows them; the file is the seed copy if any."""
    if source.seed_file:
        return source.title, f"{SOURCES_DIR}/{source.seed_file}"
    return source.title, source.url or f"source:{source.key}"


# --- validation ---------------------------------------------------------------------------


def _rule_field(path: str) -> str:
    """Model field an engine issue path belongs to, e.g. `conditions[0].value` -> conditions."""
    if path.startswith("conditions"):
        return "conditions"
    if path.startswith("benefit"):
        return "benefit"
    if path == "provision.excerpt":
        return "provision_excerpt"
    if path.startswith("provision"):
        return "provision"
    return path if path in _RULE_FIELDS else NON_FIELD_ERRORS


def _add(errors: dict[str, list[str]], field: str, path: str, message: str) -> None:
    # Keep the engine path in the message when it is finer than the field (conditions[2].op);
    # provision.excerpt is just the engine's name for provision_excerpt.
    text = message if path == field or path == "provision.excerpt" else f"{path}: {message}"
    errors.setdefault(field, []).append(text)


def subsidy_rule_errors(rule) -> dict[str, list[str]]:
    """Field -> messages for a SubsidyRule; empty when the engine can load it as is."""
    errors: dict[str, list[str]] = {}
    if not isinstance(rule.conditions, list):
        _add(errors, "conditions", "conditions", "must be a list of conditions")
    if not isinstance(rule.benefit, dict):
        _add(errors, "benefit", "benefit", "must be an object")
    if not _related_exists(rule, "provision"):
        return errors  # clean_fields reports the missing provision; nothing else to check
    blank = {name for name in ("code", "name", "provision_excerpt") if not getattr(rule, name)}
    wrong_type = set(errors)
    start = _check_period(rule, errors)
    data = rule_engine_data(rule, **_PLACEHOLDER_SOURCE)
    if start is None:
        del data["effective_from"]  # reported above, in the model's words
    try:
        parse_rule(data)
    except RuleValidationError as error:
        for issue in error.issues:
            field = _rule_field(issue.path)
            if field in blank or (field == "effective_from" and start is None):
                continue  # clean_fields or _check_period already said it
            if field in wrong_type:
                continue  # not a list/object: the engine's messages would repeat that
            _add(errors, field, issue.path, issue.message)
    if isinstance(rule.conditions, list):
        _check_condition_slugs(rule.conditions, errors)
    if _related_exists(rule, "cap_group") and rule.cap_group.currency != rule.currency:
        _add(
            errors,
            "cap_group",
            "cap_group",
            f"cap group {rule.cap_group.code} is in {rule.cap_group.currency}, "
            f"the rule in {rule.currency}; they must use the same currency",
        )
    return errors


def _related_exists(instance, name: str) -> bool:
    try:
        return getattr(instance, name) is not None
    except ObjectDoesNotExist:  # a dangling id; clean_fields reports it
        return False


def _check_period(rule, errors: dict[str, list[str]]):
    """Rule dates must lie inside the policy's; missing ones default to the policy's."""
    policy = rule.provision.policy
    start, _ = rule_effective_period(rule)
    own_start, own_end = _as_date(rule.effective_from), _as_date(rule.effective_to)
    if start is None:
        _add(
            errors,
            "effective_from",
            "effective_from",
            "is required: the policy has no effective or publication date",
        )
    policy_start = policy.effective_from or policy.published_on
    if own_start and policy_start and own_start < policy_start:
        _add(
            errors,
            "effective_from",
            "effective_from",
            f"must not be before the policy takes effect ({policy_start.isoformat()})",
        )
    if own_start and policy.expires_on and own_start > policy.expires_on:
        _add(
            errors,
            "effective_from",
            "effective_from",
            f"must not be after the policy expires ({policy.expires_on.isoformat()})",
        )
    if own_end and policy.expires_on and own_end > policy.expires_on:
        _add(
            errors,
            "effective_to",
            "effective_to",
            f"must not be after the policy expires ({policy.expires_on.isoformat()})",
        )
    # effective_to before effective_from: the engine's parser reports it.
    return start


def _check_condition_slugs(conditions: list, errors: dict[str, list[str]]) -> None:
    """Region slugs must exist in the Region table, modality slugs in the Modality choices."""
    region_values: list[tuple[str, str]] = []
    for index, condition in enumerate(conditions):
        if not isinstance(condition, Mapping) or condition.get("fact") not in FACTS:
            continue
        value_type = FACTS[condition["fact"]][0]
        value = condition.get("value")
        path = f"conditions[{index}].value"
        if value_type == "region" and isinstance(value, str):
            region_values.append((path, value))
        elif value_type == "modalities" and isinstance(value, list):
            for position, slug in enumerate(value):
                if isinstance(slug, str) and slug not in Modality.values:
                    _add(errors, "conditions", f"{path}[{position}]", f"unknown modality {slug!r}")
    if not region_values:
        return
    known = set(
        Region.objects.filter(slug__in={slug for _, slug in region_values}).values_list(
            "slug", flat=True
        )
    )
    for path, slug in region_values:
        if slug not in known:
            _add(errors, "conditions", path, f"unknown region slug {slug!r}")


def subsidy_cap_group_errors(group) -> dict[str, list[str]]:
    """Field -> messages for a SubsidyCapGroup, using the engine's cap group parser."""
    errors: dict[str, list[str]] = {}
    try:
        parse_cap_group(cap_group_engine_data(group))
    except RuleValidationError as error:
        for issue in error.issues:
            field = issue.path if issue.path in ("code", "amount", "currency", "period") else None
            if field is None:
                field = NON_FIELD_ERRORS
            if field in ("code", "amount") and getattr(group, field) in (None, ""):
                continue  # clean_fields reports blank values
            _add(errors, field, issue.path, issue.message)
    if group.pk and "currency" not in errors:
        others = sorted(group.rules.exclude(currency=group.currency).values_list("code", flat=True))
        if others:
            _add(
                errors,
                "currency",
                "currency",
                f"rules {', '.join(others)} of this cap group use another currency",
            )
    return errors
