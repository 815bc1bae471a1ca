"""Login throttling and security event logging.

Failed logins are counted per username and per client address in the Redis cache; past the
limit, the authentication backend refuses further attempts until the window passes. Events
are logged on the `portal.security` logger with the username and address, never a password.
"""

import hashlib
import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

logger = logging.getLogger("portal.security")


def client_address(request) -> str:
    if request is None:
        return "-"
    return request.META.get("REMOTE_ADDR", "-")


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(value.lower().encode()).hexdigest()[:32]
    return f"login-failures:{kind}:{digest}"


def _keys(username: str, address: str) -> list[str]:
    return [_key("user", username or ""), _key("address", address)]


def login_is_throttled(username: str, address: str) -> bool:
    try:
        counts = cache.get_many(_keys(username, address))
    except Exception:  # noqa: BLE001 - a dead cache must not lock everyone out
        logger.warning("login throttle unavailable (cache error); allowing attempt")
        return False
    user_key, address_key = _keys(username, address)
    return (
        counts.get(user_key, 0) >= settings.LOGIN_FAILURE_LIMIT
        or counts.get(address_key, 0) >= settings.LOGIN_ADDRESS_FAILURE_LIMIT
    )


def record_login_failure(username: str, address: str) -> None:
    try:
        for key in _keys(username, address):
            cache.add(key, 0, timeout=settings.LOGIN_FAILURE_WINDOW_SECONDS)
            cache.incr(key)
    except Exception:  # noqa: BLE001
        logger.warning("could not record login failure (cache error)")


def clear_login_failures(username: str) -> None:
    try:
        cache.delete(_key("user", username or ""))
    except Exception:  # noqa: BLE001
        logger.warning("could not clear login failures (cache error)")


class ThrottledModelBackend(ModelBackend):
    """Django's model backend, refusing attempts for a username or address over the limit."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        address = client_address(request)
        if username is not None and login_is_throttled(username, address):
            logger.warning("login throttled user=%s address=%s", username, address)
            # PermissionDenied stops the authentication chain and fires user_login_failed.
            raise PermissionDenied("Too many failed login attempts; try again later.")
        return super().authenticate(request, username=username, password=password, **kwargs)


def on_user_logged_in(sender, request, user, **kwargs) -> None:
    clear_login_failures(user.get_username())
    logger.info("login succeeded user=%s address=%s", user.get_username(), client_address(request))


def on_user_login_failed(sender, credentials, request=None, **kwargs) -> None:
    # `credentials` is already cleansed by Django; only the username is logged.
    username = credentials.get("username", "")
    address = client_address(request)
    record_login_failure(username, address)
    logger.warning("login failed user=%s address=%s", username, address)


def on_user_logged_out(sender, request, user, **kwargs) -> None:
    username = user.get_username() if user else "-"
    logger.info("logout user=%s address=%s", username, client_address(request))


class SecurityEventMiddleware:
    """Logs every refused request (401/403) with path, user and address."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code in (401, 403):
            user = getattr(request, "user", None)
            username = user.get_username() if user is not None and user.is_authenticated else "-"
            logger.warning(
                "permission denied status=%s method=%s path=%s user=%s address=%s",
                response.status_code,
                request.method,
                request.path,
                username,
                client_address(request),
            )
        return response
