"""API authentication: investor tokens (`Authorization: Bearer <token>`) and staff sessions."""

import datetime
import functools
import hmac
import re

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions

from portal.models import ApiToken
from portal.services import TOKEN_PREFIX_LENGTH, hash_api_token

KEYWORDS = (b"bearer", b"token")
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,128}")
# Writing last_used_at on every request would turn every read into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """Look a token up by its prefix, then compare SHA-256 hashes in constant time."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                "Malformed Authorization header; expected 'Bearer <token>'."
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not TOKEN_PATTERN.fullmatch(raw):
            raise exceptions.AuthenticationFailed("Invalid token.")
        return self.authenticate_token(raw, request)

    def authenticate_token(self, raw: str, request=None):
        digest = hash_api_token(raw)
        candidates, state = _tokens_with_users(raw[:TOKEN_PREFIX_LENGTH])
        if request is not None:
            # The data version comes in the same round trip; views read it from the request.
            request._request.portal_data_state = state
        token = next(
            (c for c in candidates if hmac.compare_digest(c.key_hash, digest)),
            None,
        )
        now = timezone.now()
        if token is None or not token.is_active(now) or not token.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        self._touch(token, now)
        return token.user, token

    @staticmethod
    def _touch(token: ApiToken, now) -> None:
        stale_before = now - LAST_USED_RESOLUTION
        if token.last_used_at is not None and token.last_used_at > stale_before:
            return
        # Conditional, so concurrent requests of the same token write at most once a minute.
        ApiToken.objects.filter(pk=token.pk).exclude(last_used_at__gt=stale_before).update(
            last_used_at=now
        )
        token.last_used_at = now

    def authenticate_header(self, request) -> str:
        return f'Bearer realm="{self.www_authenticate_realm}"'


@functools.cache
def _token_query() -> tuple[str, list[str], list[str]]:
    """SQL for the tokens of one prefix joined with their users, and the column names."""
    from portal.api import etags  # not at import time: etags → errors → DRF → this module

    user_model = get_user_model()
    token_fields = [f.attname for f in ApiToken._meta.concrete_fields]
    user_fields = [f.attname for f in user_model._meta.concrete_fields]
    quote = connection.ops.quote_name
    columns = [f"t.{quote(name)} AS t_{index}" for index, name in enumerate(token_fields)]
    columns += [f"u.{quote(name)} AS u_{index}" for index, name in enumerate(user_fields)]
    # The data state (etags.data_state) rides along: one row even when no token matches.
    sql = (
        f"SELECT state.*, tokens.* FROM ({etags.DATA_STATE_SQL}) state LEFT JOIN ("  # noqa: S608
        f"SELECT {', '.join(columns)} FROM {quote(ApiToken._meta.db_table)} t "
        f"JOIN {quote(user_model._meta.db_table)} u ON u.{quote(user_model._meta.pk.column)}"
        f" = t.{quote(ApiToken._meta.get_field('user').column)} WHERE t.prefix = %s"
        f") tokens ON true"
    )
    return sql, token_fields, user_fields


def _tokens_with_users(prefix: str) -> tuple[list[ApiToken], tuple[int, int]]:
    """`ApiToken.objects.select_related("user").filter(prefix=…)` without the ORM's compile
    step (it cost more than the indexed lookup on every API request), and the data state."""
    sql, token_fields, user_fields = _token_query()
    user_model = get_user_model()
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        rows = cursor.fetchall()
    state = (rows[0][0] or 0, rows[0][1])
    tokens = []
    split = 2 + len(token_fields)
    for row in rows:
        if row[2] is None:
            continue  # no token with this prefix: only the data state
        token = ApiToken.from_db(connection.alias, token_fields, row[2:split])
        token.user = user_model.from_db(connection.alias, user_fields, row[split:])
        tokens.append(token)
    return tokens, state


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """Logged-in staff may use the API from the browser (docs); CSRF is enforced for writes."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not result[0].is_staff:
            return None
        return result
