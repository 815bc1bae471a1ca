"""Every analyst list and detail page runs the same number of queries at 10 and 1,000 rows.

The world's named records get 10 related rows of every kind first, then 990 more; each page
is requested once to warm per-process caches (content types), then measured.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.tests.page_data import add_bulk, build_world

pytestmark = pytest.mark.django_db
MAX_QUERIES = 10


def page_urls(world) -> dict[str, str]:
    return {
        "home": reverse("policies:home"),
        "company-list": reverse("companies:company-list"),
        "company-list-filtered": reverse("companies:company-list")
        + "?region=pudong&modality=cell_therapy&ownership=domestic&sort=-name",
        "facility-list": reverse("companies:facility-list") + "?status=operational&status=planned",
        "facility-map": reverse("companies:facility-map"),
        "region-list": reverse("companies:region-list"),
        "project-list": reverse("projects:project-list") + "?year_from=2016&year_to=2022",
        "product-list": reverse("projects:product-list"),
        "milestone-list": reverse("projects:milestone-list"),
        "policy-list": reverse("policies:policy-list") + "?validity=in_force",
        "rule-list": reverse("policies:subsidy-rule-list"),
        "company": world.company.get_absolute_url(),
        "company-subsidies": reverse("companies:company-subsidies", args=[world.company.slug]),
        "company-history": reverse("companies:company-history", args=[world.company.slug]),
        "facility": world.facility.get_absolute_url(),
        "region": world.zhangjiang.get_absolute_url(),
        "region-root": world.china.get_absolute_url(),
        "project": world.project.get_absolute_url(),
        "product": world.product.get_absolute_url(),
        "milestone": world.milestone.get_absolute_url(),
        "policy": world.policy.get_absolute_url(),
        "provision": world.provision.get_absolute_url(),
        "rule": world.rule.get_absolute_url(),
        "search": reverse("policies:search") + "?q=bulk",
        "search-kind": reverse("policies:search") + "?q=bulk&kind=companies&page=2",
        "calculator": reverse("policies:calculator"),
    }


def measure(client, urls: dict[str, str]) -> dict[str, int]:
    counts = {}
    for name, url in urls.items():
        client.get(url)  # warm caches that are per process, not per page
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        counts[name] = len(queries)
    return counts


def test_query_counts_do_not_grow_with_rows(client):
    world = build_world()
    add_bulk(world, 10, tag="small")
    urls = page_urls(world)
    at_10 = measure(client, urls)
    add_bulk(world, 990, tag="large")
    at_1000 = measure(client, urls)
    assert at_1000 == at_10
    assert {name: n for name, n in at_1000.items() if n > MAX_QUERIES} == {}


def test_pages_show_bulk_rows_so_the_counts_measure_real_work(client):
    """Guard the guard: the measured pages really list the bulk rows."""
    world = build_world()
    add_bulk(world, 12, tag="small")
    body = client.get(world.company.get_absolute_url()).content.decode()
    assert "Bulk Facility 1" in body
    assert "Bulk project 1" in body
    body = client.get(world.policy.get_absolute_url()).content.decode()
    assert "Bulk provision 3" in body and "Bulk target 3" in body
