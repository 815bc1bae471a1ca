"""Cached list pages and API lists: one query per cached request, fresh after every change.

API list pages of audited resources and the analyst pages' facet counts and list fragments
are cached under the data version (latest audit-log id); the facet counts are computed once
per row; the region facet opens along the selection; the throttle and the pool's
connection check cost at most one round trip.
"""

import time

import psycopg
import pytest
from django.core.cache import caches
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from companies import services as company_services
from policies.tests.page_data import add_bulk, build_world, facet_counts
from portal.api import throttling
from portal.db import check_pooled_connection
from portal.services import api_token_issue
from tests.factories import CompanyFactory, OwnershipPeriodFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/companies/?page_size=5"


@pytest.fixture(autouse=True)
def empty_caches():
    throttling.reset_circuit()
    for alias in ("default", "template_fragments"):
        caches[alias].clear()
    yield


@pytest.fixture
def investor():
    _, raw = api_token_issue(user=UserFactory(), name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def queries_of(client, url) -> tuple[object, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return response, len(captured.captured_queries)


# API lists -------------------------------------------------------------------------------


def test_cached_api_page_costs_one_query_and_is_the_same_body(investor):
    for index in range(3):
        CompanyFactory(slug=f"co-{index}", name_en=f"Company {index}")
    first, uncached = queries_of(investor, API)
    second, cached = queries_of(investor, API)
    assert cached == 1  # token lookup with the data version; no list, citation queries
    assert uncached > cached
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert second["X-Data-Version"] == first["X-Data-Version"]
    assert second["Content-Type"] == "application/json"


def test_cached_api_page_costs_one_redis_round_trip(investor, monkeypatch):
    import redis

    CompanyFactory()
    investor.get(API)  # renders and stores the page
    trips = []
    direct, pipelined = redis.Redis.execute_command, redis.client.Pipeline.execute

    def command(self, *args, **kwargs):
        trips.append(args[0])
        return direct(self, *args, **kwargs)

    def pipeline(self, *args, **kwargs):
        trips.append("pipeline")
        return pipelined(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "execute_command", command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline)
    assert investor.get(API).status_code == 200
    assert trips == ["pipeline"]  # throttle counters and the cached page together


def test_cached_api_page_changes_with_any_committed_change(investor):
    company = CompanyFactory(slug="acme", name_en="Acme")
    before = investor.get(API).json()
    assert before["results"][0]["name_en"] == "Acme"
    company_services.company_update(
        company=company, actor=None, expected_version=company.version, data={"name_en": "Acme 2"}
    )
    after = investor.get(API)
    assert after.json()["results"][0]["name_en"] == "Acme 2"
    assert int(after["X-Data-Version"]) > 0


def test_api_page_cache_varies_with_the_query(investor):
    for index in range(3):
        CompanyFactory(slug=f"co-{index}", name_en=f"Company {index}")
    one = investor.get("/api/v1/companies/?page_size=1").json()
    two = investor.get("/api/v1/companies/?page_size=2").json()
    backwards = investor.get("/api/v1/companies/?page_size=2&ordering=-name").json()
    assert len(one["results"]) == 1 and len(two["results"]) == 2
    assert backwards["results"][0]["slug"] == "co-2"


def test_api_list_query_count_does_not_grow_with_rows(investor):
    CompanyFactory()
    investor.get(API)
    caches["default"].clear()
    _, small = queries_of(investor, "/api/v1/companies/?page_size=1000")
    for _ in range(30):
        CompanyFactory()
    caches["default"].clear()
    _, large = queries_of(investor, "/api/v1/companies/?page_size=1000")
    assert small == large <= 5


@override_settings(API_THROTTLE_RATE="3/min")
def test_refused_requests_do_not_use_up_the_allowance(investor):
    assert [investor.get(API).status_code for _ in range(3)] == [200, 200, 200]
    assert [investor.get(API).status_code for _ in range(3)] == [429, 429, 429]
    key = next(iter(caches["default"]._cache.get_client().keys("*api-throttle*")))
    assert int(caches["default"]._cache.get_client().get(key)) == 3


# The pool's connection check -------------------------------------------------------------


def _raw_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    return psycopg.connect(**{k: v for k, v in params.items() if k != "cursor_factory"})


def test_pool_check_passes_an_idle_healthy_connection_without_a_query():
    conn = _raw_connection()
    try:
        conn.autocommit = True
        check_pooled_connection(conn)  # nothing arrived: no round trip needed
        assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        conn.close()


def test_pool_check_rejects_a_connection_the_server_closed():
    conn = _raw_connection()
    try:
        conn.autocommit = True
        pid = conn.info.backend_pid
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        deadline = time.monotonic() + 5
        with pytest.raises(psycopg.OperationalError):
            while time.monotonic() < deadline:
                check_pooled_connection(conn)
                time.sleep(0.05)
    finally:
        conn.close()


# Analyst list pages ----------------------------------------------------------------------


def test_facet_counts_are_cached_and_fresh_after_a_change(client):
    world = build_world()
    url = reverse("companies:facility-list")
    first, uncached = queries_of(client, url)
    second, cached = queries_of(client, url)
    assert cached < uncached
    assert facet_counts(second, "status") == facet_counts(first, "status")
    before = facet_counts(second, "status").get("planned", 0)
    add_bulk(world, 3, tag="more")  # audited inserts move the data version
    third = client.get(url)
    assert facet_counts(third, "status").get("planned", 0) > before


def test_ownership_facet_counts_each_company_once(client):
    for index, ownership in enumerate(["domestic", "domestic", "state_owned"]):
        company = CompanyFactory(slug=f"owned-{index}")
        OwnershipPeriodFactory(company=company, ownership_type=ownership)
    response = client.get(reverse("companies:company-list"))
    assert facet_counts(response, "ownership") == {"domestic": 2, "state_owned": 1}
    filtered = client.get(reverse("companies:company-list"), {"ownership": "state_owned"})
    assert [c.slug for c in filtered.context["page"].items] == ["owned-2"]
    assert facet_counts(filtered, "ownership") == {"domestic": 2, "state_owned": 1}


def test_region_facet_opens_along_the_selected_region(client):
    world = build_world()
    top = {"china", "shanghai"}
    response = client.get(reverse("companies:company-list"))
    shown = {o.value for o in response.context["filtered"].region_facet.options}
    assert top <= shown and not shown & {"pudong", "zhangjiang"}  # deeper: drill down
    response = client.get(reverse("companies:company-list"), {"region": "pudong"})
    shown = {o.value for o in response.context["filtered"].region_facet.options}
    assert top | {"pudong", "zhangjiang"} <= shown
    assert world.company.slug in {c.slug for c in response.context["page"].items}


def test_region_facet_stays_small_with_many_regions(client):
    world = build_world()
    add_bulk(world, 60, tag="bulk")  # 60 parks under Pudong, 30 with a company
    body = client.get(reverse("companies:company-list")).content.decode()
    assert body.count("<option") < 20
    response = client.get(reverse("companies:company-list"), {"region": "pudong"})
    assert len(response.context["filtered"].region_facet.options) > 30


def test_company_list_fragment_is_cached_until_the_data_changes(client):
    company = CompanyFactory(slug="acme", name_en="Acme Cells")
    url = reverse("companies:company-list")
    _, uncached = queries_of(client, url)
    response, cached = queries_of(client, url)
    assert cached == 1 < uncached  # the data version; rows, facets and page come from the cache
    assert "Acme Cells" in response.content.decode()
    company_services.company_update(
        company=company, actor=None, expected_version=company.version, data={"name_en": "Acme 2"}
    )
    body = client.get(url).content.decode()
    assert "Acme 2" in body and "Acme Cells" not in body


def test_company_list_fragment_not_cached_for_made_up_parameters(client):
    CompanyFactory(slug="acme", name_en="Acme Cells")
    url = reverse("companies:company-list") + "?utm=1"
    _, first = queries_of(client, url)
    _, second = queries_of(client, url)
    assert first >= second > 1  # rendered again, not stored under an arbitrary query string


def test_company_list_fragment_is_per_language(client):
    CompanyFactory(slug="acme", name_en="Acme Cells")
    url = reverse("companies:company-list")
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert english != chinese


def test_company_list_query_count_does_not_grow_with_rows(client):
    region = RegionFactory(slug="somewhere")
    CompanyFactory(registered_region=region)
    url = reverse("companies:company-list")
    client.get(url)
    caches["template_fragments"].clear()
    caches["default"].clear()
    _, small = queries_of(client, url)
    for _ in range(30):
        CompanyFactory(registered_region=region)
    caches["template_fragments"].clear()
    caches["default"].clear()
    _, large = queries_of(client, url)
    assert small == large


def test_paging_stops_at_max_page_and_says_so(client, monkeypatch):
    from django.http import QueryDict

    from companies.models import Company
    from portal import pages

    Company.objects.bulk_create(
        Company(slug=f"co-{index:03d}", name_en=f"Company {index:03d}")
        for index in range(2 * pages.PAGE_SIZE + 1)
    )
    monkeypatch.setattr(pages, "MAX_PAGE", 2)
    assert pages.page_number(QueryDict("page=99")) == 2
    first = pages.paginate(Company.objects.order_by("pk"), 1)
    assert first.has_next and not first.beyond_last
    last = pages.paginate(Company.objects.order_by("pk"), 2)
    assert not last.has_next and last.beyond_last  # one more row exists, paging stops here
    body = client.get(reverse("companies:company-list")).content.decode()
    assert 'rel="next"' in body and "More rows match than paging reaches" not in body
    body = client.get(reverse("companies:company-list"), {"page": 2}).content.decode()
    assert 'rel="next"' not in body and "More rows match than paging reaches" in body


def test_list_pages_render_while_the_cache_is_down(client, settings):
    CompanyFactory(slug="acme", name_en="Acme Cells")
    dead = {"socket_connect_timeout": 0.2, "socket_timeout": 0.2}
    settings.CACHES = {
        alias: {**config, "LOCATION": "redis://127.0.0.1:1/0", "OPTIONS": dead}
        for alias, config in settings.CACHES.items()
    }
    for _ in range(3):
        response = client.get(reverse("companies:company-list"))
        assert response.status_code == 200
        assert "Acme Cells" in response.content.decode()
