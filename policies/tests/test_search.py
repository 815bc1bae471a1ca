"""Search across every kind: English, Chinese, misspelled, hostile input, index use."""

import pytest
from django.db import connection
from django.urls import reverse

from policies.search import KINDS_BY_KEY, SEARCH_CONFIG, kind_queryset, search, search_vector
from policies.tests.page_data import build_world
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


def result_names(results, key):
    group = next(group for group in results.groups if group.key == key)
    return [str(item) for item in group.results], group.total


@pytest.mark.parametrize("query", ["Zhangjiang", "张江", "Zhangjang", "zhangjiang high tech"])
def test_park_found_in_english_chinese_and_misspelled(world, query):
    names, total = result_names(search(query), "regions")
    assert names[0] == "Zhangjiang High-Tech Park"
    assert total >= 1


def test_company_found_by_chinese_name_and_by_alias(world):
    assert result_names(search("合源"), "companies")[0] == ["Juventas Cell Therapy"]
    assert result_names(search("Juventas Biotech"), "companies")[0][0] == "Juventas Cell Therapy"


def test_provision_text_is_searched_with_lower_weight_than_names(world):
    CompanyFactory(slug="liability-co", name_en="Liability Insurance Brokers")
    results = search("liability insurance")
    assert result_names(results, "companies")[0] == ["Liability Insurance Brokers"]
    assert result_names(results, "provisions")[0] == ["IV.11 Strengthen policy support"]


def test_results_grouped_by_kind_with_counts(world, client):
    response = client.get(reverse("policies:search"), {"q": "Zhangjiang"})
    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="results-regions"' in body
    assert 'id="results-facilities"' in body
    assert "Juventas Zhangjiang Plant" in body
    regions = next(g for g in response.context["results"].groups if g.key == "regions")
    assert regions.total == 1


@pytest.mark.parametrize(
    "query",
    ["'; DROP TABLE companies_company--", "<script>alert(1)</script>", "a & | ! :* (", "\x00'"],
)
def test_hostile_queries_are_plain_text(world, client, query):
    response = client.get(reverse("policies:search"), {"q": query})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in body
    if "<script>" in query:
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert CompanyFactory._meta.model.objects.filter(slug="juventas").exists()


def test_search_box_on_every_page(world, client):
    for url in (reverse("policies:home"), world.company.get_absolute_url()):
        assert 'role="search"' in client.get(url).content.decode()


def explain(queryset) -> str:
    """The plan when only a bitmap scan on an index matching the WHERE clause is allowed.

    Tables here are tiny, so without this the planner rightly prefers any other path; with
    sequential and plain index scans off, only an index whose expression matches remains.
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_indexonlyscan = off")
    return queryset.order_by().explain()


@pytest.mark.parametrize(
    ("kind", "index"),
    [
        ("companies", "company_search_gin"),
        ("facilities", "facility_search_gin"),
        ("projects", "project_search_gin"),
        ("products", "product_search_gin"),
        ("policies", "policy_search_gin"),
        ("provisions", "provision_search_gin"),
        ("subsidy_rules", "subsidy_rule_search_gin"),
        ("regions", "region_search_gin"),
        ("authorities", "authority_search_gin"),
    ],
)
def test_full_text_query_uses_the_expression_index(world, kind, index):
    """The migration's index expression equals search_vector(): the planner can use it."""
    from django.contrib.postgres.search import SearchQuery

    item = KINDS_BY_KEY[kind]
    queryset = item.model.objects.annotate(document=search_vector(item.fields)).filter(
        document=SearchQuery("zhangjiang", config=SEARCH_CONFIG)
    )
    assert index in explain(queryset)


def test_trigram_query_uses_the_trigram_index(world):
    from companies.models import Company

    plan = explain(Company.objects.filter(name_en__trigram_word_similar="Juventas"))
    assert "company_name_en_trgm" in plan


def test_kind_queryset_ranks_names_first(world):
    CompanyFactory(slug="other", name_en="Other Co", description="Works with Juventas.")
    rows = list(kind_queryset(KINDS_BY_KEY["companies"], "Juventas"))
    assert [row.slug for row in rows[:2]] == ["juventas", "other"]
