"""Keyset pagination orders NOT NULL columns plainly, so (column, id) indexes serve the list."""

import pytest

from companies.models import Company
from portal.api.pagination import keyset_page, parse_ordering
from portal.models import Region
from projects.models import InvestmentProject
from tests import factories


@pytest.mark.django_db
def test_not_null_columns_are_ordered_without_nulls_last():
    ordering = parse_ordering("-announced_on", {"announced_on": ("announced_on",)}, "announced_on")
    sql = str(InvestmentProject.objects.order_by(*ordering.order_by(InvestmentProject)).query)
    assert "NULLS LAST" not in sql


@pytest.mark.django_db
def test_nullable_columns_keep_nulls_last():
    ordering = parse_ordering("latitude", {"latitude": ("latitude",)}, "latitude")
    sql = str(Region.objects.order_by(*ordering.order_by(Region)).query)
    assert "NULLS LAST" in sql


@pytest.mark.django_db
def test_pages_cover_every_row_in_order():
    for index in range(5):
        factories.CompanyFactory(name_en=f"Company {index}", website="")
    factories.CompanyFactory(name_en="Zeta")
    ordering = parse_ordering("name", {"name": ("name_en",)}, "name")
    seen, cursor = [], None
    while True:
        page = keyset_page(Company.objects.all(), ordering, ["id", "name_en"], 2, cursor)
        seen += [row["name_en"] for row in page.rows]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 6
