"""One JSON error shape for the whole API: `{"error": {status, code, message, fields}}`.

DRF exceptions, Django validation errors raised by services, integrity conflicts and stale
versions are all mapped here, so a view never builds an error body itself.
"""

import logging

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.views import exception_handler as drf_exception_handler

from portal.services import ConcurrentEditError

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The record was changed since you read it (If-Match does not match)."
    default_code = "precondition_failed"


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = "Send If-Match with the ETag you read, so concurrent edits are not lost."
    default_code = "precondition_required"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The change conflicts with existing data."
    default_code = "conflict"


def error_body(status_code: int, code: str, message: str, fields: dict | None = None) -> dict:
    return {
        "error": {
            "status": status_code,
            "code": code,
            "message": message,
            "fields": fields or {},
        }
    }


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """Nested DRF error details as {"a.b[0].c": ["message"]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "non_field_errors" if key in (NON_FIELD_ERRORS, None) else str(key)
            path = f"{prefix}.{name}" if prefix else name
            fields.update(_flatten(value, path))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for index, value in enumerate(detail):
            if value:
                fields.update(_flatten(value, f"{prefix}[{index}]"))
    elif isinstance(detail, list):
        fields[prefix or "non_field_errors"] = [str(item) for item in detail]
    else:
        fields[prefix or "non_field_errors"] = [str(detail)]
    return fields


def _convert(exc: Exception) -> Exception:
    """Map domain and database exceptions onto DRF ones with the right status."""
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            return exceptions.ValidationError(exc.message_dict)
        return exceptions.ValidationError({"non_field_errors": exc.messages})
    if isinstance(exc, ConcurrentEditError):
        return PreconditionFailed(str(exc))
    if isinstance(exc, ProtectedError | RestrictedError):
        return Conflict("Other records still refer to this one; remove those references first.")
    if isinstance(exc, IntegrityError):
        return Conflict("The change conflicts with existing data (a uniqueness or reference rule).")
    if isinstance(exc, DataError):
        # Bad input that slipped past validation (e.g. an out-of-range number) is still a 400.
        return exceptions.ValidationError(
            {"non_field_errors": ["A value is out of range or malformed."]}
        )
    return exc


def api_exception_handler(exc, context):
    """DRF EXCEPTION_HANDLER: every handled error in the shared shape (keeps Retry-After etc.)."""
    exc = _convert(exc)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        message = "Invalid input: " + "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in list(fields.items())[:3]
        )
        code = "invalid"
    else:
        detail = getattr(exc, "detail", "")
        fields = {}
        message = str(detail) if not isinstance(detail, dict | list) else "Request failed."
        message = message or str(getattr(exc, "default_detail", "")) or "Request failed."
        codes = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        code = codes if isinstance(codes, str) else "error"
    response.data = error_body(response.status_code, code, message, fields)
    return response


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def handler404(request, exception=None):
    """JSON 404 under /api/, the ordinary page elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body(404, "not_found", "No such endpoint or record."), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    """JSON 500 under /api/ (details are logged, never sent), the ordinary page elsewhere."""
    if _is_api(request):
        return JsonResponse(
            error_body(500, "server_error", "Internal server error; it has been logged."),
            status=500,
        )
    return defaults.server_error(request)
