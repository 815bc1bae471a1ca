"""Load fixtures/curated/subsidy_rules.yaml: cap groups, then rules, with their citations.

Idempotent by `code`: a record is saved only when a value differs and a citation is created
only when the same (source, excerpt, field) is not there yet, so a second run writes nothing
and leaves no audit rows. Policies, provisions and sources must be loaded first.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, MutableMapping
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction

from policies.models import Provision, SubsidyCapGroup, SubsidyRule
from policies.services import (
    subsidy_cap_group_create,
    subsidy_cap_group_update,
    subsidy_rule_create,
    subsidy_rule_update,
)
from portal.models import Citation, Source
from portal.services import citation_create

DEFAULT_CHECKED_ON = datetime.date(2026, 11, 23)  # docs/dataset-format.md default
CAP_GROUP_KEYS = {"code", "name", "policy", "provision", "amount", "currency", "period"}
RULE_KEYS = {
    "code",
    "name",
    "description",
    "policy",
    "provision",
    "provision_excerpt",
    "effective_from",
    "effective_to",
    "currency",
    "conditions",
    "benefit",
    "cap_group",
}
CITATION_KEYS = {"source", "excerpt", "field", "verification", "checked_on"}


class SubsidyLoadError(ValueError):
    """The file is malformed or refers to something missing; the message names the entry."""


def load_subsidy_rules(*, path: Path, actor, stats: MutableMapping[str, int] | None = None) -> None:
    """Create or update the file's cap groups and rules (and their citations) in one transaction.

    `stats`, if given, counts `subsidy_cap_group.created|updated|unchanged`, the same for
    `subsidy_rule`, and `citation.created`.
    """
    document = yaml.safe_load(Path(path).read_text("utf-8")) or {}
    if not isinstance(document, Mapping) or set(document) - {"cap_groups", "rules"}:
        raise SubsidyLoadError(f"{path}: expected a mapping with cap_groups and rules")
    loader = _Loader(path=Path(path), actor=actor, stats=stats if stats is not None else {})
    with transaction.atomic():
        for index, entry in enumerate(document.get("cap_groups") or []):
            loader.entry(f"cap_groups[{index}]", entry, CAP_GROUP_KEYS, loader.cap_group)
        for index, entry in enumerate(document.get("rules") or []):
            loader.entry(f"rules[{index}]", entry, RULE_KEYS, loader.rule)


class _Loader:
    def __init__(self, *, path: Path, actor, stats: MutableMapping[str, int]) -> None:
        self.path = path
        self.actor = actor
        self.stats = stats
        self.sources: dict[str, Source] = {}

    def count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def entry(self, where: str, entry: object, keys: set[str], handler) -> None:
        """Check the entry's keys, run the handler, and name the entry in any error."""
        label = f"{self.path.name}: {where}"
        if not isinstance(entry, Mapping):
            raise SubsidyLoadError(f"{label}: must be a mapping")
        unknown = sorted(set(entry) - keys - {"citations"})
        if unknown:
            raise SubsidyLoadError(f"{label}: unknown keys {', '.join(unknown)}")
        try:
            record = handler(entry)
            self.citations(record, entry.get("citations") or [])
        except KeyError as error:
            raise SubsidyLoadError(f"{label}: missing key {error}") from error
        except (ValidationError, SubsidyLoadError) as error:
            code = entry.get("code", "?")
            raise SubsidyLoadError(f"{label} ({code}): {error}") from error

    def provision(self, entry: Mapping) -> Provision:
        provision = (
            Provision.objects.select_related("policy")
            .filter(policy__slug=entry["policy"], path=str(entry["provision"]))
            .first()
        )
        if provision is None:
            raise SubsidyLoadError(
                f"provision {entry['provision']} of policy {entry['policy']} is not loaded"
            )
        return provision

    def cap_group(self, entry: Mapping) -> SubsidyCapGroup:
        data = {
            "name": entry["name"],
            "amount": _decimal(entry["amount"]),
            "currency": entry.get("currency", "CNY"),
            "period": entry.get("period", "calendar_year"),
            "provision": self.provision(entry) if entry.get("provision") else None,
        }
        group = SubsidyCapGroup.objects.filter(code=entry["code"]).first()
        if group is None:
            self.count("subsidy_cap_group.created")
            return subsidy_cap_group_create(actor=self.actor, data={"code": entry["code"], **data})
        if not _differs(group, data):
            self.count("subsidy_cap_group.unchanged")
            return group
        self.count("subsidy_cap_group.updated")
        return subsidy_cap_group_update(
            group=group, actor=self.actor, expected_version=group.version, data=data
        )

    def rule(self, entry: Mapping) -> SubsidyRule:
        cap_group = None
        if entry.get("cap_group"):
            cap_group = SubsidyCapGroup.objects.filter(code=entry["cap_group"]).first()
            if cap_group is None:
                raise SubsidyLoadError(f"cap group {entry['cap_group']} is not defined")
        data = {
            "name": entry["name"],
            "description": entry.get("description") or "",
            "provision": self.provision(entry),
            "provision_excerpt": entry["provision_excerpt"],
            "effective_from": entry.get("effective_from"),
            "effective_to": entry.get("effective_to"),
            "currency": entry.get("currency", "CNY"),
            "conditions": entry.get("conditions") or [],
            "benefit": entry.get("benefit") or {},
            "cap_group": cap_group,
        }
        rule = SubsidyRule.objects.filter(code=entry["code"]).first()
        if rule is None:
            self.count("subsidy_rule.created")
            return subsidy_rule_create(actor=self.actor, data={"code": entry["code"], **data})
        if not _differs(rule, data):
            self.count("subsidy_rule.unchanged")
            return rule
        self.count("subsidy_rule.updated")
        return subsidy_rule_update(
            rule=rule, actor=self.actor, expected_version=rule.version, data=data
        )

    def source(self, key: str) -> Source:
        if key not in self.sources:
            source = Source.objects.filter(key=key).first()
            if source is None:
                raise SubsidyLoadError(f"source {key} is not loaded")
            self.sources[key] = source
        return self.sources[key]

    def citations(self, record, citations: list) -> None:
        content_type = ContentType.objects.get_for_model(type(record))
        existing = set(
            Citation.objects.filter(content_type=content_type, object_id=record.pk).values_list(
                "source_id", "excerpt", "field_name"
            )
        )
        for index, citation in enumerate(citations):
            if not isinstance(citation, Mapping) or set(citation) - CITATION_KEYS:
                raise SubsidyLoadError(f"citations[{index}]: expected {sorted(CITATION_KEYS)}")
            source = self.source(citation["source"])
            excerpt, field_name = citation["excerpt"], citation.get("field") or ""
            if (source.pk, excerpt, field_name) in existing:
                continue
            citation_create(
                actor=self.actor,
                subject=record,
                source=source,
                excerpt=excerpt,
                field_name=field_name,
                verification=citation.get("verification", "verified"),
                checked_on=citation.get("checked_on") or DEFAULT_CHECKED_ON,
            )
            existing.add((source.pk, excerpt, field_name))
            self.count("citation.created")


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise SubsidyLoadError(f"{value!r} is not a decimal amount") from None


def _differs(instance, data: Mapping[str, Any]) -> bool:
    """True if saving `data` would change the record (foreign keys compared by id)."""
    for name, value in data.items():
        current = getattr(instance, name)
        if hasattr(value, "pk") or hasattr(current, "pk"):
            if getattr(current, "pk", None) != getattr(value, "pk", None):
                return True
        elif current != value:
            return True
    return False
