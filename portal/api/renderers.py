"""Renderers: orjson for JSON (Decimal as string), CSV for `?format=csv` list exports."""

import datetime
import decimal

import orjson
from rest_framework.renderers import BaseRenderer


def orjson_default(value):
    if isinstance(value, decimal.Decimal):
        return str(value)  # money and measures keep their exact digits
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def dumps(data) -> bytes:
    return orjson.dumps(data, default=orjson_default, option=orjson.OPT_NON_STR_KEYS)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else dumps(data)


class CSVRenderer(BaseRenderer):
    """Selects `?format=csv`; list views stream the body themselves (see ResourceListView)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        return b"" if data is None else dumps(data)
