"""Load the curated YAML dataset (docs/dataset-format.md) into the database, idempotently.

Records are matched by natural key; a record is created when missing, updated only when a
stored value differs, and left alone otherwise, so a second run writes nothing and leaves no
audit rows. Every write goes through the entity services with the `curation-bot` actor, all
in one transaction: an invalid record aborts the whole load with file, record key and field.

Lives in `policies` because it is the top of the import chain and may use every app.
"""

from __future__ import annotations

import datetime
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import DatabaseError, models, transaction

from companies import services as company_services
from companies.models import (
    BusinessScopeEvent,
    Company,
    CompanyAlias,
    Facility,
    FacilityStatusChange,
    OwnershipPeriod,
    StockListing,
)
from policies import services as policy_services
from policies.models import (
    Policy,
    PolicyRelation,
    PolicyTarget,
    Provision,
    SubsidyCapGroup,
    SubsidyRule,
)
from portal import services as portal_services
from portal.models import (
    Authority,
    Citation,
    CuratedModel,
    ExchangeRate,
    Region,
    ReportedFigure,
    Source,
)
from projects import services as project_services
from projects.models import InvestmentProject, Product, ProjectStatusChange, RegulatoryMilestone

SYSTEM_ACTOR_USERNAME = "curation-bot"
DEFAULT_CHECKED_ON = datetime.date(2026, 11, 23)
DEFAULT_PATH = Path("fixtures/curated")

# Keys that document a record for curators and are not stored.
DOCUMENTATION_KEYS = frozenset({"notes", "citations"})

# Spec order, except that authorities load before the milestones that refer to them.
FILE_ORDER = (
    "sources.yaml",
    "regions.yaml",
    "authorities.yaml",
    "companies.yaml",
    "facilities.yaml",
    "projects.yaml",
    "products.yaml",
    "milestones.yaml",
    "policies.yaml",
    "policy_relations.yaml",
    "reported_figures.yaml",
    "subsidy_rules.yaml",
    "exchange_rates.yaml",
)

REPORTED_FIGURE_SUBJECTS: dict[str, type[models.Model]] = {
    "region": Region,
    "company": Company,
    "policy": Policy,
}


class CuratedDataError(Exception):
    """An invalid record; the message names the file, the record's key and the field."""

    def __init__(self, file: str, key: str, field_name: str | None, message: str):
        self.file, self.key, self.field_name = file, key, field_name
        where = f"{file}: record {key!r}" + (f", field {field_name!r}" if field_name else "")
        super().__init__(f"{where}: {message}")


def normalise(text: str) -> str:
    """Runs of whitespace become one space, as the verbatim-excerpt rule says."""
    return " ".join(str(text).split())


def system_actor():
    """The `curation-bot` user: inactive, no usable password, named in the audit log."""
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(
        username=SYSTEM_ACTOR_USERNAME, defaults={"is_active": False}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


@dataclass
class LoadSummary:
    """created/updated/unchanged counts per model, and keys read but not stored."""

    counts: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    ignored_keys: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    files: list[str] = field(default_factory=list)

    def count(self, model: type[models.Model], outcome: str) -> None:
        self.counts[model._meta.label][outcome] += 1

    @property
    def writes(self) -> int:
        return sum(c["created"] + c["updated"] for c in self.counts.values())

    def lines(self) -> list[str]:
        lines = []
        for label in sorted(self.counts):
            c = self.counts[label]
            line = (
                f"{label}: {c['created']} created, {c['updated']} updated, "
                f"{c['unchanged']} unchanged"
            )
            extra = sorted(set(c) - {"created", "updated", "unchanged"})
            lines.append(line + "".join(f", {c[name]} {name}" for name in extra))
        for file in sorted(self.ignored_keys):
            keys = ", ".join(sorted(self.ignored_keys[file]))
            lines.append(f"{file}: not stored (no such field): {keys}")
        return lines


Saver = Callable[[models.Model, dict[str, Any]], models.Model]


class CuratedDataLoader:
    """One load of a directory of curated YAML files; use `load()` as the entry point."""

    def __init__(self, path: Path | str = DEFAULT_PATH, *, actor=None):
        self.path = Path(path)
        self.actor = actor
        self.summary = LoadSummary()
        self._file = ""
        self._sources: dict[str, Source] = {}

    # Entry point ---------------------------------------------------------------------

    def load(self) -> LoadSummary:
        if not self.path.is_dir():
            raise CuratedDataError(str(self.path), "-", None, "no such directory")
        with transaction.atomic():
            if self.actor is None:
                self.actor = system_actor()
            for name in FILE_ORDER:
                file = self.path / name
                if not file.exists():
                    # A partial dataset (e.g. only sources and regions) is a valid load.
                    continue
                self._file = name
                self.summary.files.append(name)
                if name == "subsidy_rules.yaml":
                    load_subsidy_rules(self, file)
                    continue
                records = self._read(file)
                loader = getattr(self, "load_" + name.removesuffix(".yaml"))
                loader(records)
        return self.summary

    def _read(self, file: Path):
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            raise CuratedDataError(file.name, "-", None, f"not valid YAML: {error}") from error
        return [] if data is None else data

    # Generic machinery ---------------------------------------------------------------

    def fail(self, key, field_name, message) -> CuratedDataError:
        return CuratedDataError(self._file, str(key), field_name, message)

    def values(
        self,
        model: type[models.Model],
        record: Mapping[str, Any],
        key,
        *,
        refs: Mapping[str, tuple[type[models.Model], str]] = (),
        rename: Mapping[str, str] = (),
        skip: Iterable[str] = (),
    ) -> tuple[dict[str, Any], dict[str, list]]:
        """Model field values from a record: coerced, foreign keys resolved by natural key."""
        refs, rename, skip = dict(refs), dict(rename), set(skip)
        plain: dict[str, Any] = {}
        many: dict[str, list] = {}
        for raw_name, value in record.items():
            name = rename.get(raw_name, raw_name)
            if raw_name in skip or raw_name in DOCUMENTATION_KEYS:
                continue
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                self.summary.ignored_keys[self._file].add(raw_name)
                continue
            if model_field.many_to_many and name in refs:
                related, lookup = refs[name]
                many[name] = [self.ref(related, lookup, item, key, name) for item in value or []]
                continue
            if not model_field.concrete or not getattr(model_field, "editable", True):
                self.summary.ignored_keys[self._file].add(raw_name)
                continue
            if model_field.is_relation:
                related, lookup = refs[name]
                plain[name] = None if value is None else self.ref(related, lookup, value, key, name)
            else:
                plain[name] = self.coerce(model_field, value, key)
        return plain, many

    def coerce(self, model_field: models.Field, value, key):
        if value is None:
            if model_field.null:
                return None
            if model_field.has_default():
                return model_field.get_default()
            if isinstance(model_field, models.CharField | models.TextField):
                return ""
            return None
        try:
            if isinstance(model_field, models.DecimalField | models.DateField):
                return model_field.to_python(value if not isinstance(value, float) else str(value))
        except ValidationError as error:
            raise self.fail(key, model_field.name, "; ".join(error.messages)) from error
        return value

    def ref(self, model: type[models.Model], lookup: str, value, key, field_name):
        try:
            return model.objects.get(**{lookup: value})
        except model.DoesNotExist as error:
            raise self.fail(
                key, field_name, f"no {model._meta.verbose_name} with {lookup} {value!r}"
            ) from error

    def upsert(
        self,
        model: type[CuratedModel],
        lookup: Mapping[str, Any],
        values: Mapping[str, Any],
        key,
        *,
        many: Mapping[str, list] | None = None,
        create: Saver | None = None,
        update: Saver | None = None,
    ) -> CuratedModel:
        """Create the record, update what differs, or leave it alone (no write at all)."""
        many = dict(many or {})
        instance = model.objects.filter(**lookup).first()
        try:
            if instance is None:
                data = {**lookup, **values, **many}
                if create is not None:
                    instance = create(None, data)
                else:
                    instance = portal_services.curated_create(model, actor=self.actor, data=data)
                self.summary.count(model, "created")
                return instance
            changed = {
                name: value
                for name, value in values.items()
                if not _same(getattr(instance, name), value)
            }
            for name, items in many.items():
                current = {obj.pk for obj in getattr(instance, name).all()}
                if current != {obj.pk for obj in items}:
                    changed[name] = items
            if not changed:
                self.summary.count(model, "unchanged")
                return instance
            if update is not None:
                instance = update(instance, changed)
            else:
                instance = portal_services.curated_update(
                    instance, actor=self.actor, expected_version=instance.version, data=changed
                )
            self.summary.count(model, "updated")
            return instance
        except ValidationError as error:
            raise self._validation_failure(key, error) from error
        except DatabaseError as error:
            raise self.fail(key, None, f"refused by the database: {error}") from error

    def _validation_failure(self, key, error: ValidationError) -> CuratedDataError:
        if hasattr(error, "error_dict"):
            name, messages = next(iter(error.message_dict.items()))
            return self.fail(key, None if name == "__all__" else name, "; ".join(messages))
        return self.fail(key, None, "; ".join(error.messages))

    def cite(self, subject: models.Model, citations, key) -> None:
        """Create the record's missing citations (matched on source, field, excerpt)."""
        if not citations:
            return
        existing = {
            (c.source_id, c.field_name, normalise(c.excerpt)): c
            for c in Citation.objects.for_object(subject)
        }
        for index, item in enumerate(citations):
            where = f"citations[{index}]"
            source = self.source(item.get("source"), key, f"{where}.source")
            excerpt = item.get("excerpt")
            if not excerpt or not str(excerpt).strip():
                raise self.fail(key, f"{where}.excerpt", "an excerpt is required")
            field_name = item.get("field") or ""
            verification = item.get("verification") or "verified"
            checked_on = item.get("checked_on") or DEFAULT_CHECKED_ON
            if isinstance(checked_on, str):
                checked_on = datetime.date.fromisoformat(checked_on)
            match = existing.get((source.pk, field_name, normalise(excerpt)))
            try:
                if match is None:
                    citation = portal_services.citation_create(
                        actor=self.actor,
                        subject=subject,
                        source=source,
                        excerpt=str(excerpt).strip(),
                        field_name=field_name,
                        verification=verification,
                        checked_on=checked_on,
                    )
                    existing[(source.pk, field_name, normalise(excerpt))] = citation
                    self.summary.count(Citation, "created")
                elif (match.verification, match.checked_on) != (verification, checked_on):
                    portal_services.citation_update(
                        citation=match,
                        actor=self.actor,
                        expected_version=match.version,
                        data={"verification": verification, "checked_on": checked_on},
                    )
                    self.summary.count(Citation, "updated")
                else:
                    self.summary.count(Citation, "unchanged")
            except ValidationError as error:
                raise self._validation_failure(f"{key} {where}", error) from error

    def source(self, source_key, key, field_name) -> Source:
        if source_key not in self._sources:
            source = Source.objects.filter(key=source_key).first()
            if source is None:
                raise self.fail(key, field_name, f"no source with key {source_key!r}")
            self._sources[source_key] = source
        return self._sources[source_key]

    def records(self, data, key_name: str | Callable[[Mapping], str]):
        if not isinstance(data, list):
            raise self.fail("-", None, "the file must hold a list of records")
        for index, record in enumerate(data):
            if not isinstance(record, dict):
                raise self.fail(f"#{index + 1}", None, "a record must be a mapping")
            key = key_name(record) if callable(key_name) else record.get(key_name)
            if key in (None, ""):
                raise self.fail(f"#{index + 1}", key_name, "the natural key is missing")
            yield record, key

    # Files ---------------------------------------------------------------------------

    def load_sources(self, data) -> None:
        loaded = []
        for record, key in self.records(data, "key"):
            values, _ = self.values(Source, record, key, skip={"key"})
            source = self.upsert(
                Source,
                {"key": key},
                values,
                key,
                create=lambda _, data: portal_services.source_create(actor=self.actor, data=data),
                update=lambda obj, data: portal_services.source_update(
                    source=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self._sources[key] = source
            loaded.append((source, record, key))
        # Sources may cite themselves or each other, so cite once all of them exist.
        for source, record, key in loaded:
            self.cite(source, record.get("citations"), key)

    def load_regions(self, data) -> None:
        records = _parents_first(list(self.records(data, "slug")), "parent")
        for record, key in records:
            values, _ = self.values(
                Region, record, key, refs={"parent": (Region, "slug")}, skip={"slug"}
            )
            region = self.upsert(
                Region,
                {"slug": key},
                values,
                key,
                create=lambda _, data: portal_services.region_create(actor=self.actor, data=data),
                update=lambda obj, data: portal_services.region_update(
                    region=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(region, record.get("citations"), key)

    def load_authorities(self, data) -> None:
        for record, key in self.records(data, "slug"):
            values, _ = self.values(
                Authority, record, key, refs={"region": (Region, "slug")}, skip={"slug"}
            )
            authority = self.upsert(
                Authority,
                {"slug": key},
                values,
                key,
                create=lambda _, data: portal_services.authority_create(
                    actor=self.actor, data=data
                ),
                update=lambda obj, data: portal_services.authority_update(
                    authority=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(authority, record.get("citations"), key)

    def load_companies(self, data) -> None:
        children = {"aliases", "ownership", "listings", "scope_events"}
        records = _parents_first(list(self.records(data, "slug")), "parent")
        for record, key in records:
            values, _ = self.values(
                Company,
                record,
                key,
                refs={"parent": (Company, "slug"), "registered_region": (Region, "slug")},
                skip={"slug", *children},
            )
            company = self.upsert(
                Company,
                {"slug": key},
                values,
                key,
                create=lambda _, data: company_services.company_create(actor=self.actor, data=data),
                update=lambda obj, data: company_services.company_update(
                    company=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(company, record.get("citations"), key)
            self._company_children(company, record, key)

    def _company_children(self, company: Company, record, key) -> None:
        for alias in record.get("aliases") or []:
            alias = {"name": alias} if isinstance(alias, str) else alias
            values, _ = self.values(CompanyAlias, alias, key, skip={"name"})
            self.upsert(
                CompanyAlias,
                {"company": company, "name": alias.get("name")},
                values,
                f"{key} alias {alias.get('name')!r}",
                create=lambda _, data: company_services.company_alias_create(
                    actor=self.actor, data=data
                ),
            )
        for period in record.get("ownership") or []:
            values, _ = self.values(OwnershipPeriod, period, key, rename={"type": "ownership_type"})
            lookup = {
                "company": company,
                "ownership_type": values.pop("ownership_type", None),
                "effective_from": values.pop("effective_from", None),
            }
            owner = self.upsert(
                OwnershipPeriod,
                lookup,
                values,
                f"{key} ownership {lookup['ownership_type']}",
                create=lambda _, data: company_services.ownership_period_create(
                    actor=self.actor, data=data
                ),
            )
            self.cite(owner, period.get("citations"), key)
        for listing in record.get("listings") or []:
            values, _ = self.values(StockListing, listing, key, skip={"exchange", "ticker"})
            lookup = {"exchange": listing.get("exchange"), "ticker": listing.get("ticker")}
            stock = self.upsert(
                StockListing,
                lookup,
                {"company": company, **values},
                f"{key} listing {lookup['exchange']}:{lookup['ticker']}",
                create=lambda _, data: company_services.stock_listing_create(
                    actor=self.actor, data=data
                ),
            )
            self.cite(stock, listing.get("citations"), key)
        for event in record.get("scope_events") or []:
            values, _ = self.values(BusinessScopeEvent, event, key)
            lookup = {
                "company": company,
                "date": values.pop("date", None),
                "description": values.pop("description", ""),
            }
            scope = self.upsert(
                BusinessScopeEvent,
                lookup,
                values,
                f"{key} scope event {lookup['date']}",
                create=lambda _, data: company_services.business_scope_event_create(
                    actor=self.actor, data=data
                ),
            )
            self.cite(scope, event.get("citations"), key)

    def load_facilities(self, data) -> None:
        for record, key in self.records(data, "slug"):
            values, _ = self.values(
                Facility,
                record,
                key,
                refs={"company": (Company, "slug"), "region": (Region, "slug")},
                # The current status follows the status history below.
                skip={"slug", "status_history", "status", "status_since"},
            )
            values.update(self._undated_status(record))
            facility = self.upsert(
                Facility,
                {"slug": key},
                values,
                key,
                create=lambda _, data: company_services.facility_create(
                    actor=self.actor, data=data
                ),
                update=lambda obj, data: company_services.facility_update(
                    facility=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(facility, record.get("citations"), key)
            self._status_history(
                facility,
                record,
                key,
                FacilityStatusChange,
                "facility",
                create=company_services.facility_status_change_create,
                sync=lambda f: company_services.facility_sync_status(facility=f, actor=self.actor),
            )

    def load_projects(self, data) -> None:
        for record, key in self.records(data, "slug"):
            values, many = self.values(
                InvestmentProject,
                record,
                key,
                refs={
                    "company": (Company, "slug"),
                    "facility": (Facility, "slug"),
                    "region": (Region, "slug"),
                    "partners": (Company, "slug"),
                },
                skip={"slug", "status_history", "status", "status_since"},
            )
            values.update(self._undated_status(record))
            project = self.upsert(
                InvestmentProject,
                {"slug": key},
                values,
                key,
                many=many,
                create=lambda _, data: project_services.investment_project_create(
                    actor=self.actor, data=data
                ),
                update=lambda obj, data: project_services.investment_project_update(
                    project=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(project, record.get("citations"), key)
            self._status_history(
                project,
                record,
                key,
                ProjectStatusChange,
                "project",
                create=project_services.project_status_change_create,
                sync=lambda p: project_services.investment_project_sync_status(
                    project=p, actor=self.actor
                ),
            )

    @staticmethod
    def _undated_status(record) -> dict[str, Any]:
        """Current status when the history has no dated step (an undated source).

        A status change needs a date, so undated steps cannot be history rows; the latest
        one still says what the record's current status is, with `status_since` unknown.
        """
        steps = record.get("status_history") or []
        if not steps or any(step.get("date") for step in steps):
            return {}
        return {"status": steps[-1].get("status"), "status_since": None}

    def _status_history(self, owner, record, key, model, fk_name, *, create, sync) -> None:
        """Dated steps through the status-change service (which moves the current status)."""
        for step in record.get("status_history") or []:
            if not step.get("date"):
                # Kept as the current status above; its citations back the status field.
                self.summary.count(model, "undated (current status only)")
                citations = [
                    {**citation, "field": citation.get("field") or "status"}
                    for citation in step.get("citations") or []
                ]
                self.cite(owner, citations, f"{key} status {step.get('status')}")
                continue
            values, _ = self.values(model, step, key, rename={"notes": "note"})
            lookup = {
                fk_name: owner,
                "status": values.pop("status", None),
                "date": values.pop("date", None),
            }
            change = self.upsert(
                model,
                lookup,
                values,
                f"{key} status {lookup['status']} {lookup['date']}",
                create=lambda _, data: create(actor=self.actor, data=data),
            )
            self.cite(change, step.get("citations"), key)
        owner.refresh_from_db()
        self._guard(key, lambda: sync(owner))

    def load_products(self, data) -> None:
        for record, key in self.records(data, "slug"):
            values, _ = self.values(
                Product, record, key, refs={"company": (Company, "slug")}, skip={"slug"}
            )
            product = self.upsert(
                Product,
                {"slug": key},
                values,
                key,
                create=lambda _, data: project_services.product_create(actor=self.actor, data=data),
                update=lambda obj, data: project_services.product_update(
                    product=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(product, record.get("citations"), key)

    def load_milestones(self, data) -> None:
        for record, key in self.records(data, "slug"):
            values, _ = self.values(
                RegulatoryMilestone,
                record,
                key,
                refs={
                    "product": (Product, "slug"),
                    "authority": (Authority, "slug"),
                    "region": (Region, "slug"),
                },
                skip={"slug"},
            )
            milestone = self.upsert(
                RegulatoryMilestone,
                {"slug": key},
                values,
                key,
                create=lambda _, data: project_services.regulatory_milestone_create(
                    actor=self.actor, data=data
                ),
                update=lambda obj, data: project_services.regulatory_milestone_update(
                    milestone=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(milestone, record.get("citations"), key)

    def load_policies(self, data) -> None:
        for record, key in self.records(data, "slug"):
            values, many = self.values(
                Policy,
                record,
                key,
                refs={
                    "jurisdiction": (Region, "slug"),
                    "issuing_authorities": (Authority, "slug"),
                },
                skip={"slug", "provisions", "targets"},
            )
            policy = self.upsert(
                Policy,
                {"slug": key},
                values,
                key,
                many=many,
                create=lambda _, data: policy_services.policy_create(actor=self.actor, data=data),
                update=lambda obj, data: policy_services.policy_update(
                    policy=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(policy, record.get("citations"), key)
            for order, item in enumerate(record.get("provisions") or [], start=1):
                where = f"{key} provision {item.get('path')}"
                values, many = self.values(
                    Provision,
                    {**item, "order": order},
                    where,
                    refs={"responsible_authorities": (Authority, "slug")},
                    skip={"path"},
                )
                provision = self.upsert(
                    Provision,
                    {"policy": policy, "path": str(item.get("path"))},
                    values,
                    where,
                    many=many,
                    create=lambda _, data: policy_services.provision_create(
                        actor=self.actor, data=data
                    ),
                    update=lambda obj, data: policy_services.provision_update(
                        provision=obj, actor=self.actor, expected_version=obj.version, data=data
                    ),
                )
                self.cite(provision, item.get("citations"), where)
            for item in record.get("targets") or []:
                target_key = item.get("slug")
                values, _ = self.values(
                    PolicyTarget,
                    item,
                    target_key,
                    refs={"region": (Region, "slug")},
                    skip={"slug", "provision"},
                )
                values["policy"] = policy
                path = item.get("provision")
                values["provision"] = (
                    None
                    if path is None
                    else _provision_of(
                        policy, path, lambda m, k=target_key: self.fail(k, "provision", m)
                    )
                )
                target = self.upsert(
                    PolicyTarget,
                    {"slug": target_key},
                    values,
                    target_key,
                    create=lambda _, data: policy_services.policy_target_create(
                        actor=self.actor, data=data
                    ),
                    update=lambda obj, data: policy_services.policy_target_update(
                        target=obj, actor=self.actor, expected_version=obj.version, data=data
                    ),
                )
                self.cite(target, item.get("citations"), target_key)

    def load_policy_relations(self, data) -> None:
        for record, key in self.records(
            data, lambda r: f"{r.get('from')} {r.get('kind')} {r.get('to')}"
        ):
            lookup = {
                "from_policy": self.ref(Policy, "slug", record.get("from"), key, "from"),
                "to_policy": self.ref(Policy, "slug", record.get("to"), key, "to"),
                "kind": record.get("kind"),
            }
            self.values(PolicyRelation, record, key, skip={"from", "to", "kind"})
            relation = self.upsert(
                PolicyRelation,
                lookup,
                {},
                key,
                create=lambda _, data: policy_services.policy_relation_create(
                    actor=self.actor, data=data
                ),
            )
            self.cite(relation, record.get("citations"), key)

    def load_reported_figures(self, data) -> None:
        for record, key in self.records(data, "slug"):
            subject_model = REPORTED_FIGURE_SUBJECTS.get(record.get("subject_type"))
            if subject_model is None:
                raise self.fail(
                    key, "subject_type", f"must be one of {', '.join(REPORTED_FIGURE_SUBJECTS)}"
                )
            subject = self.ref(subject_model, "slug", record.get("subject"), key, "subject")
            values, _ = self.values(
                ReportedFigure, record, key, skip={"slug", "subject_type", "subject"}
            )
            values["subject_content_type"] = ContentType.objects.get_for_model(subject_model)
            values["subject_id"] = subject.pk
            figure = self.upsert(
                ReportedFigure,
                {"slug": key},
                values,
                key,
                create=lambda _, data: portal_services.reported_figure_create(
                    actor=self.actor, data=data
                ),
                update=lambda obj, data: portal_services.reported_figure_update(
                    figure=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(figure, record.get("citations"), key)

    def load_exchange_rates(self, data) -> None:
        for record, key in self.records(data, lambda r: f"{r.get('currency')} {r.get('date')}"):
            values, _ = self.values(ExchangeRate, record, key)
            lookup = {"currency": values.pop("currency", None), "date": values.pop("date", None)}
            rate = self.upsert(
                ExchangeRate,
                lookup,
                values,
                key,
                create=lambda _, data: portal_services.exchange_rate_create(
                    actor=self.actor, data=data
                ),
                update=lambda obj, data: portal_services.exchange_rate_update(
                    rate=obj, actor=self.actor, expected_version=obj.version, data=data
                ),
            )
            self.cite(rate, record.get("citations"), key)

    def _guard(self, key, write: Callable[[], Any]) -> None:
        try:
            write()
        except ValidationError as error:
            raise self._validation_failure(key, error) from error


def load_subsidy_rules(loader: CuratedDataLoader, file: Path) -> None:
    """Cap groups, then rules: delegated to `policies.subsidy_loading` (docs/subsidy-rules.md).

    Runs inside the loader's transaction, so a bad rule aborts the whole load too.
    """
    # Imported here so the rest of the dataset loads even where that module is absent.
    from policies import subsidy_loading

    stats: dict[str, int] = {}
    try:
        subsidy_loading.load_subsidy_rules(path=file, actor=loader.actor, stats=stats)
    except (subsidy_loading.SubsidyLoadError, ValidationError) as error:
        raise CuratedDataError(file.name, "-", None, str(error)) from error
    labels = {
        "subsidy_cap_group": SubsidyCapGroup,
        "subsidy_rule": SubsidyRule,
        "citation": Citation,
    }
    for stat, number in stats.items():
        name, _, outcome = stat.partition(".")
        model = labels.get(name)
        if model is not None:
            loader.summary.counts[model._meta.label][outcome] += number


def _provision_of(policy: Policy, path, fail: Callable[[str], Exception]) -> Provision:
    provision = policy.provisions.filter(path=str(path)).first()
    if provision is None:
        raise fail(f"no provision {path!r} in policy {policy.slug!r}")
    return provision


def _parents_first(records: list[tuple[dict, str]], parent_key: str) -> list[tuple[dict, str]]:
    """Order records so a parent in the same file loads before its children."""
    by_key = {key: (record, key) for record, key in records}
    ordered: list[tuple[dict, str]] = []
    seen: set[str] = set()

    def visit(item, trail=()):
        record, key = item
        if key in seen:
            return
        parent = record.get(parent_key)
        if parent in by_key and parent not in trail:
            visit(by_key[parent], (*trail, key))
        seen.add(key)
        ordered.append(item)

    for item in records:
        visit(item)
    return ordered


def _same(current, new) -> bool:
    if isinstance(current, models.Model) or isinstance(new, models.Model):
        return getattr(current, "pk", current) == getattr(new, "pk", new)
    return current == new


def load_curated_data(path: Path | str = DEFAULT_PATH, *, actor=None) -> LoadSummary:
    """Load every curated file under `path` in one transaction; see CuratedDataLoader."""
    return CuratedDataLoader(path, actor=actor).load()
