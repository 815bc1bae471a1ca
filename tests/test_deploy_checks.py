"""Production hardening seen on responses: the security headers and cookies that
`portal.settings.production` turns on, on real pages served by the real middleware stack.

`manage.py check --deploy` itself is run by tests/test_foundation_settings.py; this file checks
what a browser actually receives.
"""

from __future__ import annotations

import importlib
import re
import secrets
import sys

import pytest
from django.test import Client, override_settings

from tests import factories

# Every setting the production module adds on top of base for transport and cookies.
PRODUCTION_SECURITY_SETTINGS = (
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SECURE",
    "SECURE_REFERRER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "X_FRAME_OPTIONS",
    "SECURE_CSP",
    "DEBUG",
)
HTTPS = {"HTTP_X_FORWARDED_PROTO": "https"}


@pytest.fixture
def production(monkeypatch):
    """The production settings module's own values, applied over the test settings."""
    monkeypatch.setenv("SECRET_KEY", secrets.token_urlsafe(64))
    monkeypatch.delenv("DEBUG", raising=False)
    monkeypatch.delenv("SECURE_SSL_REDIRECT", raising=False)
    sys.modules.pop("portal.settings.production", None)
    module = importlib.import_module("portal.settings.production")
    values = {name: getattr(module, name) for name in PRODUCTION_SECURITY_SETTINGS}
    with override_settings(**values):
        yield values
    sys.modules.pop("portal.settings.production", None)


def test_plain_http_is_redirected_to_https(production, db):
    response = Client().get("/companies/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/companies/"


def test_health_check_is_exempt_from_the_https_redirect(production, db):
    # The load balancer probes over plain HTTP inside the network.
    response = Client().get("/healthz")

    assert response.status_code in (200, 503)


def test_security_headers_on_an_https_page(production, db):
    response = Client().get("/companies/", **HTTPS)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert "'unsafe-inline'" not in _directive(csp, "script-src")


def test_cookies_are_secure_and_session_cookie_is_http_only(production, db):
    user = factories.StaffUserFactory(username="cookie-admin")
    client = Client()
    page = client.get("/admin/login/", **HTTPS)
    assert page.cookies["csrftoken"]["secure"]

    response = client.post(
        "/admin/login/",
        {"username": user.username, "password": "correct-horse-battery-staple"},
        **HTTPS,
    )

    assert response.status_code == 302
    session = response.cookies["sessionid"]
    assert session["secure"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"


def test_language_cookie_is_secure(production, db):
    response = Client().post("/i18n/setlang/", {"language": "zh-hans"}, **HTTPS)

    assert response.cookies["django_language"]["secure"]


def _directive(csp: str, name: str) -> str:
    for part in csp.split(";"):
        tokens = part.strip().split()
        if tokens and tokens[0] == name:
            return " ".join(tokens[1:])
    return ""


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)([^>]*)>", re.IGNORECASE)


def test_every_html_page_has_csp_and_inline_scripts_carry_its_nonce(production, db):
    """Walk every URL pattern as a superuser (admin pages included) and as an anonymous visitor
    (the admin login page); every HTML answer has the CSP header, and every inline <script>
    has the nonce that header allows."""
    from tests.test_permission_matrix import _fill, walk

    world = {}
    company = factories.CompanyFactory()
    world[type(company)] = company
    for factory_class in (
        factories.FacilityFactory,
        factories.InvestmentProjectFactory,
        factories.RegulatoryMilestoneFactory,
        factories.SubsidyRuleFactory,
    ):
        factory_class()
    admin = Client()
    admin.force_login(factories.StaffUserFactory(username="csp-admin"))
    checked, problems = 0, []
    for client, endpoint in [(Client(), e) for e in walk() if e.key == "/admin/login/"] + [
        (admin, e) for e in walk()
    ]:
        try:
            path = _fill(endpoint, world)
        except AssertionError:
            continue  # a model without rows: the permission matrix covers its URL
        response = client.get(path, **HTTPS)
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        if response.status_code >= 300 and response.status_code not in (403, 404):
            continue
        checked += 1
        csp = response.get("Content-Security-Policy")
        if not csp:
            problems.append(f"{path}: no Content-Security-Policy")
            continue
        nonce = re.search(r"'nonce-([^']+)'", _directive(csp, "script-src"))
        body = response.content.decode(errors="replace")
        for attributes in INLINE_SCRIPT.findall(body):
            if 'type="application/json"' in attributes or "type='application/json'" in attributes:
                continue  # data, not code (json_script)
            if not nonce or f'nonce="{nonce.group(1)}"' not in attributes:
                problems.append(f"{path}: inline <script{attributes}> without the CSP nonce")
    assert checked >= 20, checked
    assert not problems, "\n".join(problems)
