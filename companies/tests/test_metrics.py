"""Hand-computed company/region/portal figures of the companies app's metric families."""

from decimal import Decimal

import pytest

from portal.metrics import services
from portal.tests.metrics_dataset import build, key, values

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    dataset = build()
    services.recompute_all()
    return dataset


def test_company_facilities_by_kind_and_status(data):
    got = values("company", data.a.pk)
    assert got[("facilities_by_kind", key(kind="manufacturing"))] == 2
    assert got[("facilities_by_kind", key(kind="innovation_center"))] == 1
    assert got[("facilities_by_status", key(status="operational"))] == 1
    assert got[("facilities_by_status", key(status="under_construction"))] == 1
    assert got[("facilities_by_status", key(status="announced"))] == 1
    assert ("facilities_by_kind", key(kind="testing_lab")) not in got  # that one is C's


def test_region_facilities_roll_up_the_tree(data):
    operational = ("facilities_by_status", key(status="operational"))
    announced = ("facilities_by_status", key(status="announced"))
    # F1 (Zhangjiang) counts in Zhangjiang, Pudong, Shanghai and China; F4 only in Beijing/China.
    assert values("region", data.zhangjiang.pk)[operational] == 1
    assert announced not in values("region", data.zhangjiang.pk)
    assert values("region", data.lingang.pk)[announced] == 1
    for region in (data.pudong, data.shanghai):
        got = values("region", region.pk)
        assert got[operational] == 1
        assert got[announced] == 1
        assert got[("facilities_by_status", key(status="under_construction"))] == 1
    assert values("region", data.china.pk)[operational] == 2
    assert values("region", data.beijing.pk)[operational] == 1


def test_region_companies_and_foreign_invested_share_in_force_today(data):
    def figures(region):
        got = values("region", region.pk)
        return (
            got[("companies", "{}")],
            got[("foreign_invested_companies", "{}")],
            got[("foreign_invested_share", "{}")],
        )

    assert figures(data.zhangjiang) == (1, 1, 1)
    assert figures(data.lingang) == (1, 0, 0)
    # Institution D (Pudong) is not a company; B is domestic.
    assert figures(data.pudong) == (2, 1, Decimal("0.5"))
    assert figures(data.shanghai) == (2, 1, Decimal("0.5"))
    # C was foreign-invested only until 2020: not in force today.
    assert figures(data.china) == (3, 1, Decimal("0.3333"))


def test_portal_counts(data):
    got = values("portal", None)
    assert got[("companies", "{}")] == 3
    assert got[("facilities_by_status", key(status="operational"))] == 2
    assert got[("facilities_by_status", key(status="under_construction"))] == 1
    assert got[("facilities_by_status", key(status="announced"))] == 1
