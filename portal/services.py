"""Writes of the shared core, and the one save path every app's services build on.

Every write: runs in `transaction.atomic`, names the actor for the audit trigger, refuses a
stale `expected_version` (no lost updates), calls `full_clean()` then `save()`, and schedules
side effects (metric recomputes) with `transaction.on_commit`.
"""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.utils import timezone

from portal.audit import set_actor
from portal.models import (
    ApiToken,
    Authority,
    Citation,
    CuratedModel,
    ExchangeRate,
    Region,
    ReportedFigure,
    Source,
)


class ConcurrentEditError(Exception):
    """Someone saved the record after the caller read it; the caller's save is refused."""

    def __init__(self, instance: models.Model, expected_version: int, current_version: int):
        self.instance = instance
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"{instance._meta.verbose_name} “{instance}” was changed by someone else "
            f"(version {current_version}, you edited version {expected_version}). "
            "Reload it and apply your change again."
        )


AfterWriteHook = Callable[[models.Model, str], None]
_after_write_hooks: list[AfterWriteHook] = []


def register_after_write(hook: AfterWriteHook) -> None:
    """Let an app react after a write commits (e.g. enqueue metric recomputes)."""
    if hook not in _after_write_hooks:
        _after_write_hooks.append(hook)


def _schedule_after_write(instance: models.Model, action: str) -> None:
    for hook in list(_after_write_hooks):
        transaction.on_commit(lambda hook=hook: hook(instance, action))


def _split_data(model: type[models.Model], data: Mapping[str, Any]):
    many_to_many_names = {field.name for field in model._meta.many_to_many}
    plain = {key: value for key, value in data.items() if key not in many_to_many_names}
    related = {key: value for key, value in data.items() if key in many_to_many_names}
    unknown = [key for key in plain if not _is_settable(model, key)]
    if unknown:
        raise ValidationError(dict.fromkeys(unknown, "Unknown field."))
    return plain, related


def _is_settable(model: type[models.Model], name: str) -> bool:
    # Exact name first: `object_id`/`subject_id` are plain columns, not `<fk>_id` attnames.
    candidates = [name, name.removesuffix("_id")] if name.endswith("_id") else [name]
    for candidate in candidates:
        try:
            field = model._meta.get_field(candidate)
        except Exception:  # noqa: BLE001, S112 - any lookup failure means "not a field"
            continue
        if field.concrete and getattr(field, "editable", True):
            return True
    return False


def curated_save(
    instance: CuratedModel,
    *,
    actor,
    expected_version: int | None,
    many_to_many: Mapping[str, Iterable] | None = None,
) -> CuratedModel:
    """Validate and save a new or changed record; the shared body of every create/update service."""
    model = type(instance)
    action = "created" if instance._state.adding else "updated"
    with transaction.atomic():
        set_actor(actor)
        if not instance._state.adding:
            current = model.objects.select_for_update().filter(pk=instance.pk).values("version")
            row = current.first()
            if row is None:
                raise ObjectDoesNotExist(
                    f"{model._meta.verbose_name} {instance.pk} no longer exists"
                )
            if expected_version is not None and row["version"] != expected_version:
                raise ConcurrentEditError(instance, expected_version, row["version"])
            instance.version = row["version"] + 1
            instance.updated_at = timezone.now()
        instance.full_clean()
        instance.save()
        for name, values in (many_to_many or {}).items():
            getattr(instance, name).set(values)
        _schedule_after_write(instance, action)
    return instance


def curated_create(model: type[CuratedModel], *, actor, data: Mapping[str, Any]) -> CuratedModel:
    plain, related = _split_data(model, data)
    return curated_save(model(**plain), actor=actor, expected_version=None, many_to_many=related)


def curated_update(
    instance: CuratedModel, *, actor, expected_version: int | None, data: Mapping[str, Any]
) -> CuratedModel:
    plain, related = _split_data(type(instance), data)
    for name, value in plain.items():
        setattr(instance, name, value)
    return curated_save(
        instance, actor=actor, expected_version=expected_version, many_to_many=related
    )


def curated_delete(instance: CuratedModel, *, actor, expected_version: int | None) -> None:
    """Delete a record and its citations, refusing a stale version like an update would."""
    model = type(instance)
    with transaction.atomic():
        set_actor(actor)
        row = model.objects.select_for_update().filter(pk=instance.pk).values("version").first()
        if row is None:
            return
        if expected_version is not None and row["version"] != expected_version:
            raise ConcurrentEditError(instance, expected_version, row["version"])
        Citation.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id=instance.pk
        ).delete()
        _schedule_after_write(instance, "deleted")
        instance.delete()


# Shared-core entities --------------------------------------------------------------------


def region_create(*, actor, data: Mapping[str, Any]) -> Region:
    region = curated_create(Region, actor=actor, data=data)
    region.refresh_from_db(fields=["path", "depth"])
    return region


def region_update(*, region: Region, actor, expected_version: int | None, data) -> Region:
    region = curated_update(region, actor=actor, expected_version=expected_version, data=data)
    region.refresh_from_db(fields=["path", "depth"])
    return region


def source_create(*, actor, data: Mapping[str, Any]) -> Source:
    return curated_create(Source, actor=actor, data=data)


def source_update(*, source: Source, actor, expected_version: int | None, data) -> Source:
    return curated_update(source, actor=actor, expected_version=expected_version, data=data)


def authority_create(*, actor, data: Mapping[str, Any]) -> Authority:
    return curated_create(Authority, actor=actor, data=data)


def authority_update(*, authority: Authority, actor, expected_version: int | None, data):
    return curated_update(authority, actor=actor, expected_version=expected_version, data=data)


def reported_figure_create(*, actor, data: Mapping[str, Any]) -> ReportedFigure:
    return curated_create(ReportedFigure, actor=actor, data=data)


def reported_figure_update(*, figure: ReportedFigure, actor, expected_version: int | None, data):
    return curated_update(figure, actor=actor, expected_version=expected_version, data=data)


def exchange_rate_create(*, actor, data: Mapping[str, Any]) -> ExchangeRate:
    return curated_create(ExchangeRate, actor=actor, data=data)


def exchange_rate_update(*, rate: ExchangeRate, actor, expected_version: int | None, data):
    return curated_update(rate, actor=actor, expected_version=expected_version, data=data)


def citation_create(
    *,
    actor,
    subject: models.Model,
    source: Source,
    excerpt: str,
    field_name: str = "",
    verification: str = "verified",
    checked_on=None,
) -> Citation:
    """Cite `source` for `subject` (optionally one field) with a verbatim excerpt."""
    data = {
        "content_type": ContentType.objects.get_for_model(type(subject)),
        "object_id": subject.pk,
        "source": source,
        "excerpt": excerpt,
        "field_name": field_name,
        "verification": verification,
    }
    if checked_on is not None:
        data["checked_on"] = checked_on
    return curated_create(Citation, actor=actor, data=data)


def citation_update(*, citation: Citation, actor, expected_version: int | None, data) -> Citation:
    return curated_update(citation, actor=actor, expected_version=expected_version, data=data)


# API tokens --------------------------------------------------------------------------------

TOKEN_PREFIX_LENGTH = 8


def hash_api_token(raw_token: str) -> str:
    """SHA-256 of the token: tokens are long random strings, so a fast hash is enough."""
    import hashlib

    return hashlib.sha256(raw_token.encode()).hexdigest()


def api_token_issue(*, user, name: str, days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the record and the raw token, which is never stored."""
    import datetime
    import secrets

    raw_token = secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken(
        user=user,
        name=name,
        prefix=raw_token[:TOKEN_PREFIX_LENGTH],
        key_hash=hash_api_token(raw_token),
        created_at=now,
        expires_at=now + datetime.timedelta(days=days) if days else None,
    )
    with transaction.atomic():
        token.full_clean()
        token.save()
    return token, raw_token


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke a token now; a revoked token never authenticates again."""
    with transaction.atomic():
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        token.refresh_from_db(fields=["revoked_at"])
    return token
