"""Redis cache backend that reuses its client objects.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call; its constructor
fills a table of ~170 response callbacks, which costs more than the Redis round trip itself
on the API's hot path (throttle, page cache). The client is stateless apart from its
connection pool, so one per pool is kept and reused.
"""

import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient

logger = logging.getLogger(__name__)


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


class PortalRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient


class FailSoftRedisCache(PortalRedisCache):
    """For caches that only save work (rendered fragments): an outage is a miss, not a 500.

    After a failure the cache is skipped for a while instead of paying a timeout per call.
    """

    DOWN_SECONDS = 30.0

    def __init__(self, server, params):
        super().__init__(server, params)
        self._down_until = 0.0

    def _call(self, method, default, *args, **kwargs):
        if time.monotonic() < self._down_until:
            return default
        try:
            return method(*args, **kwargs)
        except Exception as error:  # noqa: BLE001 - any cache failure degrades to a miss
            logger.warning("cache %s unavailable, skipping it: %r", self._servers, error)
            self._down_until = time.monotonic() + self.DOWN_SECONDS
            return default

    def get(self, key, default=None, version=None):
        return self._call(super().get, default, key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().set, None, key, value, timeout, version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call(super().add, False, key, value, timeout, version)

    def delete(self, key, version=None):
        return self._call(super().delete, False, key, version)
