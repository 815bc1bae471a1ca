"""API authentication, token storage, throttling and the shared error shape."""

import datetime
import subprocess
import time
from io import StringIO

import pytest
from django.conf import settings
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from portal.api import throttling
from portal.models import ApiToken
from portal.services import api_token_issue, api_token_revoke
from tests.api_mixins import assert_error
from tests.factories import CompanyFactory, StaffUserFactory, UserFactory

URL = "/api/v1/companies/"


def bearer(raw: str, keyword: str = "Bearer") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
    return client


@pytest.fixture(autouse=True)
def fresh_throttle():
    throttling.reset_circuit()
    caches["default"].clear()
    yield
    throttling.reset_circuit()


@pytest.mark.django_db
def test_bearer_and_token_keywords_authenticate():
    _, raw = api_token_issue(user=UserFactory(), name="t")
    assert bearer(raw).get(URL).status_code == 200
    assert bearer(raw, "Token").get(URL).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer a b", "Bearer short", "Bearer " + "x" * 43, "Bearer ünïcode-token-value"],
)
def test_malformed_or_unknown_tokens_are_401(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(URL)
    assert_error(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.django_db
def test_expired_and_revoked_tokens_are_401():
    user = UserFactory()
    expired, expired_raw = api_token_issue(user=user, name="old", days=1)
    past = timezone.now() - datetime.timedelta(days=2)
    ApiToken.objects.filter(pk=expired.pk).update(
        created_at=past, expires_at=past + datetime.timedelta(days=1)
    )
    revoked, revoked_raw = api_token_issue(user=user, name="gone")
    assert bearer(revoked_raw).get(URL).status_code == 200
    api_token_revoke(token=revoked)
    for raw in (expired_raw, revoked_raw):
        error = assert_error(bearer(raw).get(URL), 401)
        assert "expired or revoked" in error["message"]


@pytest.mark.django_db
def test_last_used_is_written_at_most_once_a_minute():
    token, raw = api_token_issue(user=UserFactory(), name="t")
    client = bearer(raw)
    client.get(URL)
    token.refresh_from_db()
    first = token.last_used_at
    assert first is not None
    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at == first  # no write for a request within the minute
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - datetime.timedelta(minutes=2))
    client.get(URL)
    token.refresh_from_db()
    assert token.last_used_at > first


@pytest.mark.django_db
def test_database_dump_holds_no_plaintext_token():
    _, raw = api_token_issue(user=UserFactory(), name="dumped")
    db = connection.settings_dict
    dump = subprocess.run(
        [
            "pg_dump",
            "--data-only",
            "-h",
            db["HOST"],
            "-p",
            str(db["PORT"]),
            "-U",
            db["USER"],
            db["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    # The dump runs in another session, so it sees only committed rows: commit-free check
    # of every text column in this transaction too.
    assert raw not in dump
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND data_type IN ('text', 'character varying')"
        )
        columns = cursor.fetchall()
        for table, column in columns:
            cursor.execute(
                f'SELECT count(*) FROM "{table}" WHERE "{column}" LIKE %s',
                [f"%{raw[8:]}%"],
            )
            assert cursor.fetchone()[0] == 0, (table, column)
        cursor.execute("SELECT count(*) FROM portal_apitoken WHERE name = 'dumped'")
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
@override_settings(API_THROTTLE_RATE="3/min")
def test_throttle_returns_429_with_retry_after():
    _, raw = api_token_issue(user=UserFactory(), name="t")
    client = bearer(raw)
    assert [client.get(URL).status_code for _ in range(3)] == [200, 200, 200]
    response = client.get(URL)
    assert_error(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60
    _, other = api_token_issue(user=UserFactory(), name="other")
    assert bearer(other).get(URL).status_code == 200  # per token, not global


@pytest.mark.django_db
def test_throttle_fails_open_fast_when_redis_is_down():
    dead = {
        **settings.CACHES,
        "dead": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    _, raw = api_token_issue(user=UserFactory(), name="t")
    with override_settings(CACHES=dead, API_THROTTLE_CACHE="dead", API_THROTTLE_RATE="1/min"):
        client = bearer(raw)
        started = time.monotonic()
        statuses = [client.get(URL).status_code for _ in range(5)]
        assert statuses == [200] * 5
        assert time.monotonic() - started < 3


@pytest.mark.django_db
def test_staff_session_reads_but_writes_need_csrf():
    staff = StaffUserFactory()
    company = CompanyFactory()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff)
    assert client.get(URL).status_code == 200
    response = client.patch(
        f"{URL}{company.slug}/", {"name_en": "X"}, format="json", HTTP_IF_MATCH='"1"'
    )
    error = assert_error(response, 403)
    assert "CSRF" in error["message"]
    investor = APIClient()
    investor.force_login(UserFactory())  # sessions are for staff only
    assert_error(investor.get(URL), 401)


@pytest.mark.django_db
def test_issue_token_command_prints_a_working_token_once():
    UserFactory(username="investor")
    out, err = StringIO(), StringIO()
    call_command(
        "issue_token", "investor", "--days", "30", "--name", "fund", stdout=out, stderr=err
    )
    raw = out.getvalue().strip()
    token = ApiToken.objects.get(name="fund")
    assert token.expires_at > timezone.now() + datetime.timedelta(days=29)
    assert raw not in err.getvalue() and raw[:8] == token.prefix
    assert bearer(raw).get(URL).status_code == 200


@pytest.mark.django_db
def test_error_shape_for_unknown_endpoint_and_wrong_method():
    _, raw = api_token_issue(user=UserFactory(), name="t")
    client = bearer(raw)
    assert_error(client.get("/api/v1/no-such-thing/"), 404)
    assert_error(client.put(URL, {}, format="json"), 405)
    assert_error(client.post("/api/v1/regions/", {}, format="json"), 405)


@pytest.mark.django_db
def test_docs_and_schema_are_served_offline():
    schema = APIClient().get("/api/v1/schema/")
    assert schema.status_code == 200 and b"openapi" in schema.content
    swagger = APIClient().get("/api/v1/docs/")
    assert swagger.status_code == 200 and b"drf_spectacular_sidecar" in swagger.content
    redoc = APIClient().get("/api/v1/docs/redoc/")
    assert b"drf_spectacular_sidecar/redoc" in redoc.content and b"googleapis" not in redoc.content
