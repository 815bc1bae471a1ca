"""Shared API test framework: each resource's test class declares its endpoint, how to build
records, its filters and orderings, and inherits the behaviour every list/detail must have.

    class TestCompaniesApi(ResourceApiTests):
        endpoint = "companies"
        orderings = {"name": lambda item: item["name_en"]}

        def make(self, **kwargs): return CompanyFactory(**kwargs)
        def bulk(self, count): ...          # unsaved instances for bulk_create
        def filter_cases(self): return {"modality": ("car_t", matching, other)}
"""

import csv
import io
from collections.abc import Callable

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from portal.models import Citation
from portal.services import api_token_issue
from tests.factories import SourceFactory, UserFactory

API = "/api/v1/"
MAX_LIST_QUERIES = 5


def api_client(user=None) -> APIClient:
    """A client authenticated with a fresh token of `user` (a new plain user by default)."""
    user = user or UserFactory()
    _token, raw = api_token_issue(user=user, name="test")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def cite(instance, source=None, excerpt: str = "A verbatim excerpt.", field: str = ""):
    return Citation.objects.create(
        content_type=ContentType.objects.get_for_model(instance),
        object_id=instance.pk,
        source=source or SourceFactory(url="https://example.com/doc"),
        excerpt=excerpt,
        field_name=field,
    )


def bulk_cite(model, ids, source) -> None:
    content_type = ContentType.objects.get_for_model(model)
    Citation.objects.bulk_create(
        [
            Citation(content_type=content_type, object_id=pk, source=source, excerpt="Bulk.")
            for pk in ids
        ]
    )


def assert_error(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content[:500]
    error = response.json()["error"]
    assert error["status"] == status and error["code"] and error["message"]
    if field is not None:
        assert field in error["fields"], error
    return error


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [item["id"] for item in response.json()["results"]]


@pytest.mark.django_db
class ResourceApiTests:
    """Inherited tests for one API resource (list, detail, filters, ordering, CSV, queries)."""

    endpoint: str
    lookup: str = "slug"  # instance attribute used in the detail URL
    orderings: dict[str, Callable[[dict], object]] = {}
    cited: bool = True
    model = None

    # -- what each resource test provides ------------------------------------------------
    def make(self, **kwargs):
        raise NotImplementedError

    def bulk(self, count: int) -> list:
        """`count` saved records, quickly (bulk_create); default: `make` in a loop."""
        return [self.make() for _ in range(count)]

    def filter_cases(self) -> dict[str, tuple[str, object, object]]:
        """param → (value or a dict of params, a record that matches, one that does not)."""
        return {}

    # -- helpers ---------------------------------------------------------------------------
    @pytest.fixture
    def client(self, db):
        return api_client()

    def list_url(self) -> str:
        return f"{API}{self.endpoint}/"

    def detail_url(self, instance) -> str:
        return f"{API}{self.endpoint}/{getattr(instance, self.lookup)}/"

    # -- inherited tests -------------------------------------------------------------------
    def test_anonymous_gets_401_with_challenge(self):
        instance = self.make()
        for url in (self.list_url(), self.detail_url(instance)):
            response = APIClient().get(url)
            assert_error(response, 401)
            assert response["WWW-Authenticate"].startswith("Bearer")

    def test_list_pages_with_a_cursor(self, client):
        made = {self.make().pk for _ in range(3)}
        first = client.get(self.list_url(), {"page_size": 2})
        assert len(ids_of(first)) == 2 and first.json()["next"]
        assert first["X-Data-Version"].isdigit() and first["ETag"]
        second = client.get(first.json()["next"])
        assert second.json()["next"] is None
        assert set(ids_of(first)) | set(ids_of(second)) == made

    def test_detail_has_the_list_representation_and_etag(self, client):
        instance = self.make()
        listed = {item["id"]: item for item in client.get(self.list_url()).json()["results"]}
        response = client.get(self.detail_url(instance))
        assert response.status_code == 200
        assert response.json() == listed[instance.pk]
        assert response.json()["url"].endswith(self.detail_url(instance))
        assert response["X-Data-Version"].isdigit()

    def test_unknown_detail_is_json_404(self, client):
        assert_error(client.get(f"{self.list_url()}999999999/"), 404)

    def test_each_filter_selects_matching_records(self, client):
        cases = self.filter_cases()
        assert cases or not self.declares_filters(), "declare filter_cases for this resource"
        for param, (value, matching, other) in cases.items():
            params = value if isinstance(value, dict) else {param: value}
            found = ids_of(client.get(self.list_url(), params))
            assert matching.pk in found, f"{param}={value} lost the matching record"
            assert other.pk not in found, f"{param}={value} kept a non-matching record"

    def declares_filters(self) -> bool:
        from portal.api.resources import REGISTRY

        return REGISTRY[self.endpoint].filterset_class is not None

    def test_orderings_sort_both_ways(self, client):
        self.bulk(4)
        assert self.orderings, "declare at least one ordering"
        for key, sort_key in self.orderings.items():
            for prefix, reverse in (("", False), ("-", True)):
                items = client.get(self.list_url(), {"ordering": prefix + key}).json()["results"]
                expected = sorted(items, key=lambda i: (sort_key(i), i["id"]), reverse=reverse)
                assert [i["id"] for i in items] == [i["id"] for i in expected], prefix + key

    def test_bad_ordering_cursor_and_page_size_are_400(self, client):
        self.make()
        assert_error(client.get(self.list_url(), {"ordering": "nope"}), 400, "ordering")
        assert_error(client.get(self.list_url(), {"cursor": "%%%garbage"}), 400, "cursor")
        assert_error(client.get(self.list_url(), {"page_size": "1001"}), 400, "page_size")
        assert_error(client.get(self.list_url(), {"page_size": "9" * 40}), 400, "page_size")
        assert_error(client.get(self.list_url(), {"q": "a\x00b"}), 400, "q")

    def test_csv_export_streams_every_matching_row(self, client):
        self.bulk(3)
        response = client.get(self.list_url(), {"format": "csv"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][0] == "id" and "url" in rows[0]
        assert len(rows) == 1 + self.model.objects.count()

    def test_list_etag_gives_304(self, client):
        self.make()
        first = client.get(self.list_url())
        again = client.get(self.list_url(), HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304 and again["ETag"] == first["ETag"]
        other_query = client.get(
            self.list_url(), {"page_size": 5}, HTTP_IF_NONE_MATCH=first["ETag"]
        )
        assert other_query.status_code == 200

    def test_query_count_is_constant_at_10_and_1000_rows(self, client):
        source = SourceFactory()
        first = self.bulk(10)
        if self.cited:
            bulk_cite(self.model, [i.pk for i in first], source)
        client.get(self.list_url())  # warm-up: content types, token last-used stamp
        with CaptureQueriesContext(connection) as small:
            response = client.get(self.list_url(), {"page_size": 1000})
        assert len(response.json()["results"]) == self.model.objects.count()
        more = self.bulk(990)
        if self.cited:
            bulk_cite(self.model, [i.pk for i in more], source)
        with CaptureQueriesContext(connection) as large:
            response = client.get(self.list_url(), {"page_size": 1000})
        results = response.json()["results"]
        assert len(results) == 1000
        if self.cited:
            cited_ids = {i.pk for i in first + more}
            assert all(item["citations"] for item in results if item["id"] in cited_ids)
        assert len(small) == len(large) <= MAX_LIST_QUERIES, [q["sql"][:120] for q in large]


class CitedResourceTests:
    """Mixed into resources that show facts: citations are part of every representation."""

    def test_citations_are_in_list_and_detail(self, client):
        instance = self.make()
        source = SourceFactory(url="https://example.com/notice")
        cite(instance, source, excerpt="The exact words.", field="name_en")
        cite(instance, excerpt="Second source.")
        self.make()  # an uncited neighbour must not borrow them
        detail = client.get(self.detail_url(instance)).json()
        assert len(detail["citations"]) == 2
        first = detail["citations"][0]
        assert first == {
            "source": {"key": source.key, "title": source.title, "url": source.url},
            "excerpt": "The exact words.",
            "field": "name_en",
            "verification": "verified",
            "checked_on": first["checked_on"],
        }
        listed = {i["id"]: i for i in client.get(self.list_url()).json()["results"]}
        assert listed[instance.pk]["citations"] == detail["citations"]
        others = [item for pk, item in listed.items() if pk != instance.pk]
        assert others and all(item["citations"] == [] for item in others)
