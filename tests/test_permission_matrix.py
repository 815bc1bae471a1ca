"""Walk every URL pattern and every OpenAPI operation with every role; compare with the table.

The table is `tests/permission_matrix.py`. Every request runs inside a transaction that is
rolled back, so write methods (empty bodies, no If-Match) never change the data the next
request sees.
"""

from __future__ import annotations

import datetime
import inspect
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import factory
import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from portal.models import ApiToken, CuratedModel
from portal.services import api_token_issue, api_token_revoke
from tests import factories
from tests import permission_matrix as matrix

WALKED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ADMIN_WALKED_METHODS = ("GET", "POST")
REFUSALS = {matrix.LOGIN, 401, 403, 404, 405}
LOGIN_PATH = "/admin/login/"


# Walking the URL configuration ----------------------------------------------------------


@dataclass
class Endpoint:
    key: str  # "/companies/{slug}/"
    name: str | None  # "companies:company-detail"
    params: list[str] = field(default_factory=list)
    callback: object = None


def _route_text(pattern) -> str:
    text = str(pattern.pattern)
    if text.startswith("^") or text.endswith("$"):  # a regex pattern (admin app index, catch-all)
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text.lstrip("^").rstrip("$"))
        text = text.replace("\\", "")
        return text
    return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)


def walk(patterns=None, prefix: str = "/", namespace: str | None = None) -> list[Endpoint]:
    if patterns is None:
        patterns = get_resolver().url_patterns
    endpoints = []
    for entry in patterns:
        route = prefix + _route_text(entry)
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            inner = ":".join(n for n in (namespace, ns) if n) or None
            endpoints += walk(entry.url_patterns, route, inner)
        elif isinstance(entry, URLPattern):
            name = entry.name and (f"{namespace}:{entry.name}" if namespace else entry.name)
            params = re.findall(r"\{(\w+)\}", route)
            endpoints.append(Endpoint(route, name, params, entry.callback))
    return endpoints


# The world: one object of every factory, users of every role --------------------------


def _all_factories():
    found = []
    for _, obj in inspect.getmembers(factories, inspect.isclass):
        if (
            issubclass(obj, factory.django.DjangoModelFactory)
            and obj.__module__ == factories.__name__
        ):
            found.append(obj)
    return found


@pytest.fixture
def world(db):
    objects = {}
    company = factories.CompanyFactory()
    for factory_class in _all_factories():
        kwargs = {"subject": company} if factory_class is factories.CitationFactory else {}
        instance = factory_class(**kwargs)
        objects.setdefault(type(instance), instance)
    objects[type(company)] = company
    from portal.metrics.services import recompute_all

    recompute_all()  # metric rows exist only once computed; their URLs need one
    return objects


def _curators_group() -> Group:
    group, _ = Group.objects.get_or_create(name="Curators")
    models = list(_curated_models())
    content_types = ContentType.objects.get_for_models(*models).values()
    perms = list(Permission.objects.filter(content_type__in=content_types))
    from portal.models import Change, Figure

    perms += list(
        Permission.objects.filter(
            content_type__in=ContentType.objects.get_for_models(Change, Figure).values(),
            codename__startswith="view_",
        )
    )
    group.permissions.set(perms)
    return group


def _curated_models():
    from django.apps import apps

    return [m for m in apps.get_models() if issubclass(m, CuratedModel)]


@dataclass
class Role:
    name: str
    user: object = None
    session: bool = False
    token: str | None = None

    _client: Client | None = None

    def client(self) -> Client:
        # One client per role: each new Client builds a WSGI handler, and WhiteNoise scans the
        # static files for every one of them (most of the time of a request).
        if self._client is None:
            headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
            self._client = Client(**headers)
        session = self._client.cookies.get(settings.SESSION_COOKIE_NAME)
        if self.session and (session is None or not session.value):  # first use, or logged out
            self._client.force_login(self.user)
        return self._client


@pytest.fixture
def roles(db):
    made = {"anonymous": Role("anonymous")}
    made["analyst"] = Role("analyst", factories.UserFactory(username="analyst"), session=True)
    for name in matrix.INVESTORS:
        user = factories.UserFactory(username=name)
        token, raw = api_token_issue(user=user, name=name, days=30)
        if name == "investor_expired":
            past = timezone.now() - datetime.timedelta(days=10)
            ApiToken.objects.filter(pk=token.pk).update(
                created_at=past, expires_at=past + datetime.timedelta(days=1)
            )
        if name == "investor_revoked":
            api_token_revoke(token=token)
        made[name] = Role(name, user, token=raw)
    curator = factories.UserFactory(username="curator", is_staff=True)
    curator.groups.add(_curators_group())
    made["curator"] = Role("curator", curator, session=True)
    made["admin"] = Role("admin", factories.StaffUserFactory(username="root"), session=True)
    return made


# Filling path parameters ----------------------------------------------------------------


def _first(model):
    instance = model.objects.order_by("pk").first()
    assert instance is not None, f"no {model.__name__} to fill a URL with; add a factory"
    return instance


def _page_params(endpoint: Endpoint, world) -> dict | None:
    from companies.models import Company, Facility
    from policies.models import Policy, Provision, SubsidyRule
    from portal.models import Region
    from projects.models import InvestmentProject, Product, RegulatoryMilestone

    slug_models = {
        "companies": Company,
        "facilities": Facility,
        "regions": Region,
        "projects": InvestmentProject,
        "products": Product,
        "milestones": RegulatoryMilestone,
        "policies": Policy,
    }
    first_segment = endpoint.key.strip("/").split("/")[0]
    if endpoint.key == "/policies/{slug}/provisions/{path}/":
        provision = _first(Provision)
        return {"slug": provision.policy.slug, "path": provision.path}
    if endpoint.params == ["code"] and first_segment == "subsidy-rules":
        return {"code": _first(SubsidyRule).code}
    if endpoint.params == ["slug"] and first_segment in slug_models:
        return {"slug": _first(slug_models[first_segment]).slug}
    return None


def _api_params(endpoint: Endpoint) -> dict | None:
    from portal.api.resources import REGISTRY

    match = re.fullmatch(r"/api/v1/([\w-]+)/\{lookup\}/(?:[\w-]+/)*", endpoint.key)
    if not match or match.group(1) not in REGISTRY:
        return None
    resource = REGISTRY[match.group(1)]
    return {"lookup": getattr(_first(resource.model), resource.lookup_field)}


ADMIN_MODEL_ROUTE = re.compile(r"/admin/(\w+)/(\w+)/(.*)")


def _admin_model(endpoint: Endpoint):
    match = ADMIN_MODEL_ROUTE.fullmatch(endpoint.key)
    if not match:
        return None, None
    for model in admin.site._registry:
        if (model._meta.app_label, model._meta.model_name) == match.group(1, 2):
            return model, match.group(3)
    return None, None


def _admin_kind(rest: str) -> str:
    if rest == "{object_id}/":
        return "object"  # the bare object URL, a redirect to its change page
    rest = rest.replace("{object_id}/", "").replace("{id}/", "")
    kinds = {"": "changelist", "add/": "add", "change/": "change", "delete/": "delete"}
    if rest in kinds:
        return kinds[rest]
    if rest == "history/":
        return "history"
    if rest == "password/":
        return "password_change"
    return rest.strip("/")


def _fill(endpoint: Endpoint, world) -> str:
    """Concrete path for an endpoint; fails the test when nobody declared how to fill it."""
    values: dict | None = {}
    if endpoint.params:
        values = _page_params(endpoint, world) or _api_params(endpoint)
        model, _ = _admin_model(endpoint)
        if values is None and model is not None:
            existing = model.objects.order_by("pk").first()
            # No factory for the model: a made-up id still exercises the permission checks.
            pk = existing.pk if existing is not None else 987654321
            values = {"object_id": pk, "id": pk}
        elif values is None:
            values = {
                "/admin/{app_label}/": {"app_label": "portal"},
                "/admin/{url}": {"url": "no-such-page/"},
                "/admin/r/{content_type_id}/{object_id}/": {
                    "content_type_id": ContentType.objects.get_for_model(
                        type(world[factories.CompanyFactory._meta.model])
                    ).pk,
                    "object_id": world[factories.CompanyFactory._meta.model].pk,
                },
            }.get(endpoint.key)
        assert values is not None, (
            f"Declare how to fill the path parameters of {endpoint.key} ({endpoint.name}) "
            "in tests/test_permission_matrix.py"
        )
    path = endpoint.key
    for name, value in values.items():
        path = path.replace("{" + name + "}", str(value))
    return path


# Expectations -------------------------------------------------------------------------


def expected_for(endpoint: Endpoint, method: str) -> dict | None:
    """role → expected outcome, or None when the endpoint is not declared at all."""
    model, rest = _admin_model(endpoint)
    if model is not None:
        label = f"{model._meta.app_label}.{model._meta.model_name}"
        if label in matrix.ADMIN_MODELS:
            allowed = matrix.ADMIN_MODELS[label]
        elif issubclass(model, CuratedModel):
            allowed = matrix.CURATED_ADMIN
        else:
            return None
        kind = _admin_kind(rest)
        expected = dict.fromkeys(matrix.ROLES, matrix.LOGIN)
        for role in ("curator", "admin"):
            declared = allowed.get(role, set())
            if isinstance(declared, dict):
                default = matrix.ALLOW if kind == "object" else matrix.FORBIDDEN
                expected[role] = declared.get(kind, default)
                continue
            # The bare object URL only redirects to the change page, whoever asks.
            permitted = kind == "object" or kind in declared or f"{kind}:{method}" in declared
            if permitted and kind in matrix.ADMIN_POST_ONLY_KINDS and method != "POST":
                expected[role] = matrix.NOT_ALLOWED
            else:
                expected[role] = matrix.ALLOW if permitted else matrix.FORBIDDEN
        return expected
    declared = matrix.ENDPOINTS.get(endpoint.key)
    if declared is None:
        return None
    return declared.get(method, dict.fromkeys(matrix.ROLES, matrix.DENIED))


def outcome(response):
    code = response.status_code
    if code == 503 and response.get("Content-Type", "").startswith("application/json"):
        return matrix.ALLOW  # a health answer naming what is down (no worker in this test)
    if code >= 500:
        return f"{code} server error"
    if 300 <= code < 400 and code != 304:
        if response.get("Location", "").split("?")[0].endswith(LOGIN_PATH):
            return matrix.LOGIN
        return matrix.ALLOW
    if code in (401, 403, 404, 405):
        return code
    if code == 429:
        return "429 throttled"
    return matrix.ALLOW


def matches(expected, actual) -> bool:
    if expected == matrix.DENIED:
        return actual in REFUSALS
    return expected == actual


def _request(role: Role, method: str, path: str):
    client = role.client()  # outside the rolled-back block: the session row must persist
    with transaction.atomic():
        body = {}
        if method in ("POST", "PUT", "PATCH") and path.startswith("/api/"):
            body = {"data": "{}", "content_type": "application/json"}
        response = client.generic(method, path, **body)
        transaction.set_rollback(True)
    return response


def _json_keys(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _json_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_keys(item)


@pytest.fixture
def unthrottled(settings):
    settings.API_THROTTLE_RATE = "1000000/min"
    from django.core.cache import cache

    cache.clear()  # login failures and throttle counters of earlier tests
    # Thousands of expected refusals would each log a traceback; that is only noise here.
    loggers = [logging.getLogger(name) for name in ("django.request", "portal.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def _record_figures(**figures) -> None:
    """For the `make reliability` summary table (test-artifacts is git-ignored)."""
    out = Path(__file__).resolve().parent.parent / "test-artifacts" / "reliability"
    out.mkdir(parents=True, exist_ok=True)
    (out / "permission_matrix.json").write_text(json.dumps(figures, indent=2))


# The tests --------------------------------------------------------------------------------


def test_every_endpoint_is_declared(db):
    missing = [
        f"{e.key} ({e.name})"
        for e in walk()
        if all(expected_for(e, m) is None for m in WALKED_METHODS)
    ]
    assert not missing, "Declare these in tests/permission_matrix.py:\n" + "\n".join(missing)


def test_every_pattern_method_and_role_matches_the_table(world, roles, unthrottled):
    mismatches, leaks, checked = [], [], 0
    for endpoint in walk():
        is_admin = endpoint.key.startswith("/admin/")
        for method in ADMIN_WALKED_METHODS if is_admin else WALKED_METHODS:
            expected = expected_for(endpoint, method)
            assert expected is not None, f"{endpoint.key} is not declared"
            path = _fill(endpoint, world)
            for role_name in matrix.ROLES:
                response = _request(roles[role_name], method, path)
                actual = outcome(response)
                checked += 1
                if not matches(expected[role_name], actual):
                    mismatches.append(
                        f"{method} {path} as {role_name}: expected {expected[role_name]}, "
                        f"got {actual} ({response.status_code})"
                    )
                if role_name == "investor" and "json" in response.get("Content-Type", ""):
                    leaked = set(_json_keys(json.loads(response.content or b"null")))
                    leaked &= matrix.INVESTOR_FORBIDDEN_FIELDS
                    if leaked:
                        leaks.append(f"{method} {path}: {sorted(leaked)}")
    _record_figures(
        endpoints=len(walk()),
        roles=len(matrix.ROLES),
        checks=checked,
        mismatches=len(mismatches),
        leaks=len(leaks),
    )
    assert checked > 500
    assert not mismatches, f"{len(mismatches)} of {checked} differ:\n" + "\n".join(mismatches)
    assert not leaks, "Investor responses leak curator-only fields:\n" + "\n".join(leaks)


def _schema_operations():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method.upper())
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_every_openapi_operation_is_declared_and_served(db):
    operations = _schema_operations()
    assert operations, "the OpenAPI schema lists no operations"
    undeclared = [
        f"{method} {path}"
        for path, method in operations
        if method not in matrix.ENDPOINTS.get(path, {})
    ]
    assert not undeclared, "Declare these API operations:\n" + "\n".join(undeclared)
    routed = {e.key for e in walk()}
    unrouted = [f"{m} {p}" for p, m in operations if p not in routed]
    assert not unrouted, "Operations in the schema that no URL pattern serves:\n" + "\n".join(
        unrouted
    )


def test_openapi_operations_per_role(world, roles, unthrottled):
    """Each schema operation, requested as each role, gives the declared outcome."""
    by_key = {e.key: e for e in walk()}
    mismatches = []
    for path, method in _schema_operations():
        endpoint = by_key[path]
        concrete = _fill(endpoint, world)
        for role_name, expected in matrix.ENDPOINTS[path][method].items():
            actual = outcome(_request(roles[role_name], method, concrete))
            if not matches(expected, actual):
                mismatches.append(f"{method} {concrete} as {role_name}: {expected} != {actual}")
    assert not mismatches, "\n".join(mismatches)


def test_restricted_admin_objects_reveal_no_existence(world, roles, unthrottled):
    """A curator without token permissions gets 404 for a real and a made-up token id alike,
    so the admin is no oracle for which tokens exist (Django alone gives 403 vs a redirect)."""
    curator = roles["curator"]
    other_token = ApiToken.objects.exclude(user=curator.user).first()
    assert other_token is not None
    for suffix in ("change/", "delete/", "history/"):
        real = _request(curator, "GET", f"/admin/portal/apitoken/{other_token.pk}/{suffix}")
        fake = _request(curator, "GET", f"/admin/portal/apitoken/987654321/{suffix}")
        assert real.status_code == 404, (suffix, real.status_code)
        assert fake.status_code == 404, (suffix, fake.status_code)


def test_investor_token_hash_never_served(world, roles, unthrottled):
    """The stored hash of the investor's own token appears in no API response body."""
    token = ApiToken.objects.get(user=roles["investor"].user)
    for endpoint in walk():
        if not endpoint.key.startswith("/api/") or "GET" not in matrix.ENDPOINTS.get(
            endpoint.key, {}
        ):
            continue
        response = _request(roles["investor"], "GET", _fill(endpoint, world))
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert token.key_hash.encode() not in body, endpoint.key
