"""Per-token rate limit kept in the Redis cache; fails open when Redis is unavailable.

A sliding window approximated from two fixed-window counters (this window's and the last
one's, weighted by how much of it still overlaps), read and incremented in one pipelined
round trip. DRF's own throttle keeps a list of timestamps per client that it reads and
writes back on every request: two round trips and a pickled list of up to `rate` entries.
A list view's cached page (`view.page_cache_key()`) is read in the same round trip.
"""

import logging
import math
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
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
            if not isinstance(self.cache, RedisCache):
                return super().allow_request(request, view)  # not Redis: DRF's history list
            return self._allow_windowed(request, view)
        except Exception as error:  # noqa: BLE001 - any cache failure means "don't throttle"
            logger.warning("API throttle cache unavailable, failing open: %r", error)
            _mark_down()
            return True

    def _allow_windowed(self, request, view) -> bool:
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = self.timer()
        window, offset = divmod(now, self.duration)
        current = self.cache.make_and_validate_key(f"{key}:{int(window)}")
        previous = self.cache.make_and_validate_key(f"{key}:{int(window) - 1}")
        client = self.cache._cache.get_client(current, write=True)
        pipe = client.pipeline(transaction=False)
        pipe.incr(current)
        pipe.expire(current, 2 * self.duration)
        pipe.get(previous)
        # A list view's cached page comes along in the same round trip.
        page_key = None
        if hasattr(view, "page_cache_key") and self.cache is caches["default"]:
            page_key = view.page_cache_key()
        if page_key is not None:
            pipe.get(self.cache.make_and_validate_key(page_key))
        count, _, before, *page = pipe.execute()
        if page_key is not None:
            view.prefetched_page = (page_key, page[0])
        before = int(before or 0)
        overlap = 1 - offset / self.duration  # share of the last window still inside
        if count + before * overlap <= self.num_requests:
            return True
        client.decr(current)  # a refused request does not use up the allowance
        count -= 1
        until_next_window = self.duration - offset
        if count >= self.num_requests:
            self._wait = until_next_window  # this window alone is full
        else:
            # When the last window's weighted share has shrunk enough for one more request.
            share = (self.num_requests - count - 1) / before
            self._wait = min(until_next_window, self.duration * (overlap - share))
        return False

    def wait(self):
        if hasattr(self, "_wait"):
            return max(1, math.ceil(self._wait))
        return super().wait()
