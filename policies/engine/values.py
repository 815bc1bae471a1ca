"""Strict parsers for the scalar values shared by rule and scenario validation.

Each parser returns the parsed value or raises `ValueError` with a message meant for the end
user; callers prefix the field path.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from .facts import MAX_AMOUNT

SLUG_RE = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
_DECIMAL_RE = re.compile(r"^\d{1,16}(?:\.\d{1,2})?$")
_RATE_RE = re.compile(r"^\d(?:\.\d{1,6})?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MAX_SLUG_LENGTH = 100
MAX_TEXT_LENGTH = 200


def parse_slug(value: object) -> str:
    """A lower-case slug such as `shanghai` or `sh-cell-therapy-2022-product-support`."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise ValueError("must not contain NUL bytes")
    if len(value) > MAX_SLUG_LENGTH or not SLUG_RE.match(value):
        raise ValueError(f"{_shorten(value)!r} is not a valid slug (a-z, 0-9, '-', '_')")
    return value


def parse_text(value: object, *, max_length: int = MAX_TEXT_LENGTH) -> str:
    """A non-empty string without NUL bytes."""
    if not isinstance(value, str):
        raise ValueError(f"must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise ValueError("must not contain NUL bytes")
    if not value.strip():
        raise ValueError("must not be empty")
    if len(value) > max_length:
        raise ValueError(f"must be at most {max_length} characters")
    return value


def parse_amount(value: object) -> Decimal:
    """A money amount: a plain decimal string (or int), >= 0, at most 2 decimals, <= 10^15.

    Floats are refused because JSON floats have already lost precision; exponents, NaN,
    infinity, signs and whitespace are refused by the pattern.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError("must be a non-negative decimal number given as a string")
    text = str(value)
    if "\x00" in text or not _DECIMAL_RE.match(text):
        raise ValueError("must be a non-negative decimal number")
    amount = Decimal(text)
    if amount > MAX_AMOUNT:
        raise ValueError(f"must not exceed {MAX_AMOUNT}")
    return amount


def parse_rate(value: object) -> Decimal:
    """A fraction in (0, 1] given as a string, e.g. "0.5" for 50%."""
    if not isinstance(value, str) or not _RATE_RE.match(value):
        raise ValueError('must be a decimal string such as "0.5"')
    rate = Decimal(value)
    if not Decimal(0) < rate <= Decimal(1):
        raise ValueError("must be greater than 0 and at most 1")
    return rate


def parse_date(value: object) -> date:
    """An ISO date `YYYY-MM-DD` (a `date` object is accepted as is, for the Django caller)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise ValueError(f"must be a date string YYYY-MM-DD, not {type(value).__name__}")
    if not _DATE_RE.match(value):
        raise ValueError(f"{_shorten(value)!r} is not a date in the form YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid calendar date") from None


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit] + "..."
