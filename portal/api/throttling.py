"""Per-token rate limit kept in the Redis cache; fails open when Redis is unavailable."""

import logging
import time

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import SimpleRateThrottle

from portal.models import ApiToken

logger = logging.getLogger(__name__)
DEFAULT_RATE = "600/min"
# After a cache failure, skip throttling for a while instead of paying a timeout per request.
FAIL_OPEN_SECONDS = 30.0
_open_until = 0.0


def _mark_down() -> None:
    global _open_until
    _open_until = time.monotonic() + FAIL_OPEN_SECONDS


def reset_circuit() -> None:
    """Close the breaker (tests, and after an operator fixed Redis)."""
    global _open_until
    _open_until = 0.0


class TokenRateThrottle(SimpleRateThrottle):
    """`API_THROTTLE_RATE` requests per token (per staff user for sessions)."""

    scope = "token"

    def __init__(self):
        self.cache = caches[getattr(settings, "API_THROTTLE_CACHE", "default")]
        super().__init__()

    def get_rate(self) -> str:
        return getattr(settings, "API_THROTTLE_RATE", DEFAULT_RATE)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            return None  # anonymous callers are refused by authentication anyway
        return f"api-throttle:{ident}"

    def allow_request(self, request, view) -> bool:
        if time.monotonic() < _open_until:
            return True
        try:
            return super().allow_request(request, view)
        except Exception as error:  # noqa: BLE001 - any cache failure means "don't throttle"
            logger.warning("API throttle cache unavailable, failing open: %r", error)
            _mark_down()
            return True
