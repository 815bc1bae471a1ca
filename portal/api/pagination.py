"""Keyset (cursor) pagination over any ordering, with an `id` tie-break and NULLs last.

The cursor is opaque to clients (base64url JSON of the ordering and the last row's sort
values); malformed or tampered cursors are a 400, never a 500.
"""

import base64
import binascii
import datetime
import decimal
from dataclasses import dataclass
from functools import reduce
from operator import or_

import orjson
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import F, Q
from rest_framework.exceptions import ValidationError

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
BIGINT_MAX = 2**63 - 1


def parse_page_size(raw: str | None, default: int = DEFAULT_PAGE_SIZE) -> int:
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 6 or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationError({"page_size": [f"Must be an integer from 1 to {MAX_PAGE_SIZE}."]})
    return int(raw)


@dataclass(frozen=True)
class Ordering:
    key: str  # what the client asked for, e.g. "-announced_on"
    columns: tuple[tuple[str, bool], ...]  # (field, descending), ending with ("id", …)

    def order_by(self, model=None) -> list:
        # NULLS LAST only where a column can be NULL: on NOT NULL columns the plain order lets
        # PostgreSQL walk a (column, id) index instead of sorting the whole table.
        expressions = []
        for name, desc in self.columns:
            nulls_last = True if model is None or nullable(model, name) else None
            expressions.append(
                F(name).desc(nulls_last=nulls_last) if desc else F(name).asc(nulls_last=nulls_last)
            )
        return expressions

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.columns]


def parse_ordering(raw: str | None, choices: dict[str, tuple[str, ...]], default: str) -> Ordering:
    key = raw or default
    descending = key.startswith("-")
    base = key.removeprefix("-")
    if base not in choices:
        options = ", ".join(sorted(choices))
        raise ValidationError(
            {"ordering": [f"Unknown ordering; choose one of {options} (prefix - to reverse)."]}
        )
    columns = []
    for field in choices[base]:
        field_desc = field.startswith("-")
        columns.append((field.removeprefix("-"), field_desc != descending))
    columns.append(("id", descending))
    return Ordering(key=key, columns=tuple(columns))


def _jsonable(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return value


def encode_cursor(ordering: Ordering, row: dict) -> str:
    payload = {"o": ordering.key, "v": [_jsonable(row[name]) for name in ordering.names]}
    return base64.urlsafe_b64encode(orjson.dumps(payload)).rstrip(b"=").decode()


def _invalid() -> ValidationError:
    return ValidationError({"cursor": ["Invalid cursor; use the `next` link from a response."]})


def _model_field(model, name: str) -> models.Field:
    field = None
    for part in name.split("__"):
        field = model._meta.get_field(part)
        model = field.related_model or model
    return field


def decode_cursor(raw: str, ordering: Ordering, model) -> list:
    """The sort values stored in the cursor, checked against the model's field types."""
    if len(raw) > 2000:
        raise _invalid()
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise _invalid() from None
    if not isinstance(payload, dict) or payload.get("o") != ordering.key:
        raise _invalid()
    values = payload.get("v")
    if not isinstance(values, list) or len(values) != len(ordering.columns):
        raise _invalid()
    cleaned = []
    for (name, _desc), value in zip(ordering.columns, values, strict=True):
        if value is None:
            cleaned.append(None)
            continue
        if isinstance(value, dict | list | bool) or (isinstance(value, str) and "\x00" in value):
            raise _invalid()
        try:
            field = _model_field(model, name)
            value = field.to_python(value)
            field.run_validators(value)
        except (DjangoValidationError, FieldDoesNotExist, TypeError, ValueError, ArithmeticError):
            raise _invalid() from None
        if isinstance(value, int) and not -BIGINT_MAX <= value <= BIGINT_MAX:
            raise _invalid()
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            raise _invalid()
        cleaned.append(value)
    return cleaned


def nullable(model, name: str) -> bool:
    """Whether the field can hold NULL; related paths (`a__b`) may be NULL through the join."""
    if "__" in name:
        return True
    try:
        return bool(model._meta.get_field(name).null)
    except FieldDoesNotExist:
        return True


def after(ordering: Ordering, values: list, model=None) -> Q | None:
    """Rows strictly after `values` in `ordering` (NULLs sort last in both directions)."""
    branches = []
    equal = Q()
    for (name, desc), value in zip(ordering.columns, values, strict=True):
        if value is None:
            equal &= Q(**{f"{name}__isnull": True})
            continue
        lookup = "lt" if desc else "gt"
        beyond = Q(**{f"{name}__{lookup}": value})
        if model is None or nullable(model, name):
            beyond |= Q(**{f"{name}__isnull": True})
        branches.append(equal & beyond)
        equal &= Q(**{name: value})
    return reduce(or_, branches) if branches else None


@dataclass
class Page:
    rows: list[dict]
    next_cursor: str | None


def keyset_page(queryset, ordering: Ordering, fields: list[str], size: int, cursor: str | None):
    """One page of `.values(*fields)` rows in `ordering`, starting after `cursor`."""
    queryset = queryset.order_by(*ordering.order_by(queryset.model))
    if cursor:
        condition = after(ordering, decode_cursor(cursor, ordering, queryset.model), queryset.model)
        if condition is None:
            return Page(rows=[], next_cursor=None)
        queryset = queryset.filter(condition)
    wanted = list(dict.fromkeys([*fields, *ordering.names]))
    rows = list(queryset.values(*wanted)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows=rows, next_cursor=encode_cursor(ordering, rows[-1]) if more else None)
