"""The investment cells: running totals kept by triggers, rebuilt by a full recompute.

The reference everywhere is `projects_investment_cells_rebuild()`, which recomputes both cell
tables from every project and returns how many cells it had to correct: 0 means the triggers
kept them exact.
"""

import datetime
import json
from decimal import Decimal
from importlib import import_module

import pytest
from django.db import connection
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase as HypothesisTestCase

from portal import services as portal_services
from portal.metrics import services as metric_services
from portal.models import Change, Figure, Metric, MetricSnapshot
from portal.tests.metrics_dataset import build, key, values
from projects import services
from projects.models import (
    CompanyInvestmentCell,
    InvestmentCellChange,
    InvestmentProject,
    RegionInvestmentCell,
)
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date


@pytest.fixture
def data():
    return build()


def corrections() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT projects_investment_cells_rebuild()")
        return cursor.fetchone()[0]


def region_cell(region, amount_kind, currency, year):
    return RegionInvestmentCell.objects.get(
        region=region, amount_kind=amount_kind, currency=currency, year=year
    )


def test_cells_hold_the_dataset_totals_rolled_up_the_tree(data):
    # P1 (CNY 500m, Zhangjiang) counts in Zhangjiang, Pudong, Shanghai and China.
    for region in (data.zhangjiang, data.pudong, data.shanghai, data.china):
        cell = region_cell(region, "capital_expenditure", "CNY", 2024)
        assert (cell.amount, cell.amount_cny, cell.projects) == (Decimal("500000000"),) * 2 + (1,)
    assert not RegionInvestmentCell.objects.filter(region=data.lingang, currency="CNY").exists()
    # P2 + P5 (USD commitments, converted at 7.10) in China; P4 (EUR) has no rate.
    usd = region_cell(data.china, "commitment", "USD", 2024)
    assert (usd.amount_cny, usd.converted_cny) == (Decimal("710000000"), 1)
    eur = CompanyInvestmentCell.objects.get(
        company=data.a, amount_kind="commitment", currency="EUR"
    )
    assert (eur.projects, eur.converted_cny, eur.converted_usd) == (1, 0, 0)
    assert corrections() == 0


def test_update_move_and_delete_keep_cells_exact_and_queue_what_changed(data):
    InvestmentCellChange.objects.all().delete()
    project = services.investment_project_update(
        project=data.p1,
        actor=None,
        expected_version=data.p1.version,
        data={"amount": Decimal("600000000"), "region": data.lingang},
    )
    assert region_cell(data.lingang, "capital_expenditure", "CNY", 2024).amount == 600000000
    assert region_cell(data.pudong, "capital_expenditure", "CNY", 2024).amount == 600000000
    assert not RegionInvestmentCell.objects.filter(
        region=data.zhangjiang, amount_kind="capital_expenditure"
    ).exists()
    queued = set(InvestmentCellChange.objects.values_list("grain", "subject_id", "part"))
    assert ("company", data.a.pk, "capital_expenditure|CNY") in queued
    assert ("region", data.zhangjiang.pk, "capital_expenditure|2024|CNY") in queued
    assert corrections() == 0
    project.delete()
    assert not RegionInvestmentCell.objects.filter(amount_kind="capital_expenditure").exists()
    assert corrections() == 0


def test_a_title_edit_changes_no_cell(data):
    InvestmentCellChange.objects.all().delete()
    services.investment_project_update(
        project=data.p1, actor=None, expected_version=data.p1.version, data={"title": "Renamed"}
    )
    assert not InvestmentCellChange.objects.exists()


def test_a_new_rate_reconverts_the_cells(data):
    eur_before = CompanyInvestmentCell.objects.get(company=data.a, currency="EUR")
    assert eur_before.converted_cny == 0
    portal_services.exchange_rate_create(
        actor=None, data={"currency": "EUR", "date": D(2024, 4, 30), "rate_to_cny": "7.80"}
    )
    eur = CompanyInvestmentCell.objects.get(company=data.a, currency="EUR")
    assert (eur.amount_cny, eur.converted_cny) == (Decimal("156000000"), 1)
    assert corrections() == 0


def test_a_moved_region_moves_its_totals(data):
    portal_services.region_update(
        region=data.pudong,
        actor=None,
        expected_version=data.pudong.version,
        data={"parent": data.beijing},
    )
    assert region_cell(data.beijing, "capital_expenditure", "CNY", 2024).amount == 500000000
    assert not RegionInvestmentCell.objects.filter(
        region=data.shanghai, amount_kind="capital_expenditure"
    ).exists()
    assert corrections() == 0


def test_an_edit_shows_at_once_and_its_run_records_only_the_queued_slices(data):
    metric_services.recompute_all()
    untouched = Metric.objects.get(
        subject_type="company", subject_id=data.b.pk, name="investment_total_usd"
    ).computed_at
    services.investment_project_update(
        project=data.p1, actor=None, expected_version=data.p1.version, data={"amount": "700000000"}
    )
    edit = Change.objects.filter(table_name="projects_investmentproject").latest("id")
    # Served from the cells: the new total and its lineage are visible before any recompute.
    figure = Figure.objects.get(
        subject_type="company",
        subject_id=data.a.pk,
        name="investment_total",
        dimensions={"amount_kind": "capital_expenditure", "currency": "CNY"},
    )
    assert figure.value == Decimal("700000000")
    assert figure.input_version == edit.pk
    assert values("region", data.china.pk)[
        ("investment_total_cny", key(amount_kind="capital_expenditure", year=2024))
    ] == Decimal("700000000")

    last_history = MetricSnapshot.objects.aggregate(last=Max("id"))["last"]
    results = metric_services.recompute_subjects([], tables={"projects_investmentproject"})
    written = {result.family: result.written for result in results}
    assert written == {"company.investment": 0, "region.investment": 0}  # no stored row
    history = {
        (snapshot.subject_type, snapshot.subject_id): snapshot.figures
        for snapshot in MetricSnapshot.objects.filter(
            id__gt=last_history, family__in=["company.investment", "region.investment"]
        )
    }
    # Company A's CNY total (+ its converted CNY and USD) and China/Shanghai/Pudong/Zhangjiang's
    # two capital expenditure figures for 2024: nothing else is recorded.
    assert {subject: len(figures) for subject, figures in history.items()} == {
        ("company", data.a.pk): 3,
        ("region", data.china.pk): 2,
        ("region", data.shanghai.pk): 2,
        ("region", data.pudong.pk): 2,
        ("region", data.zhangjiang.pk): 2,
    }
    cny_total = MetricSnapshot.figure_key(
        "investment_total_cny", key(amount_kind="capital_expenditure", year=2024)
    )
    assert Decimal(str(history[("region", data.china.pk)][cny_total])) == Decimal("700000000")
    assert not InvestmentCellChange.objects.exists()
    assert (
        Metric.objects.get(
            subject_type="company", subject_id=data.b.pk, name="investment_total_usd"
        ).computed_at
        == untouched
    )


def test_the_view_serves_what_a_full_recompute_stores(data):
    """Two statements compute each investment figure: the family SQL (stored by a full run)
    and the view (read live). After a rederive they agree on every figure."""
    services.investment_project_update(
        project=data.p1, actor=None, expected_version=data.p1.version, data={"amount": "700000000"}
    )
    metric_services.recompute_all(rederive=True)
    stored = {
        m.pk: (m.value, m.inputs)
        for m in Metric.objects.filter(name__startswith="investment_total").exclude(
            subject_type="portal"
        )
    }
    served = {
        f.pk: (f.value, f.inputs)
        for f in Figure.objects.filter(name__startswith="investment_total").exclude(
            subject_type="portal"
        )
    }
    assert len(stored) > 20
    assert served == stored


def test_an_incremental_run_deletes_the_figures_of_vanished_cells(data):
    metric_services.recompute_all()
    capex_2024 = (
        "investment_total",
        key(amount_kind="capital_expenditure", currency="CNY", year=2024),
    )
    assert capex_2024 in values("region", data.zhangjiang.pk)
    services.investment_project_update(
        project=data.p1, actor=None, expected_version=data.p1.version, data={"region": data.lingang}
    )
    metric_services.recompute_subjects([], tables={"projects_investmentproject"})
    # Zhangjiang's only capital expenditure moved to Lingang: its figures go, Lingang's appear.
    assert capex_2024 not in values("region", data.zhangjiang.pk)
    assert values("region", data.lingang.pk)[capex_2024] == Decimal("500000000")
    assert values("region", data.pudong.pk)[capex_2024] == Decimal("500000000")

    data.p1.refresh_from_db()
    services.investment_project_delete(project=data.p1, actor=None, expected_version=None)
    metric_services.recompute_subjects([], tables={"projects_investmentproject"})
    company_figures = values("company", data.a.pk)
    assert ("investment_total", key(amount_kind="capital_expenditure", currency="CNY")) not in (
        company_figures
    )
    assert ("investment_total_cny", key(amount_kind="capital_expenditure")) not in company_figures
    assert capex_2024 not in values("region", data.china.pk)
    metric_services.recompute_all(rederive=True)
    assert values("company", data.a.pk) == company_figures  # nothing left behind


def test_an_incremental_run_drops_a_converted_total_when_no_converted_project_is_left(data):
    """P2 (USD) goes; A's commitments keep P4 (EUR, no rate): the per-currency EUR figure
    stays, the CNY and USD totals of commitments have nothing converted left and go."""
    metric_services.recompute_all()
    commitments = key(amount_kind="commitment")
    pudong_2024 = key(amount_kind="commitment", year=2024)
    assert ("investment_total_cny", commitments) in values("company", data.a.pk)
    assert ("investment_total_cny", pudong_2024) in values("region", data.pudong.pk)

    p2 = InvestmentProject.objects.get(company=data.a, currency="USD", amount_kind="commitment")
    services.investment_project_delete(project=p2, actor=None, expected_version=None)
    metric_services.recompute_subjects([], tables={"projects_investmentproject"})

    company_figures = values("company", data.a.pk)
    assert ("investment_total", key(amount_kind="commitment", currency="EUR")) in company_figures
    assert ("investment_total_cny", commitments) not in company_figures
    assert ("investment_total_usd", commitments) not in company_figures
    region_figures = values("region", data.pudong.pk)
    assert ("investment_total_cny", pudong_2024) not in region_figures
    assert (
        "investment_total",
        key(amount_kind="commitment", currency="EUR", year=2024),
    ) in region_figures
    metric_services.recompute_all(rederive=True)
    assert values("company", data.a.pk) == company_figures  # nothing left behind
    assert values("region", data.pudong.pk) == region_figures


def test_an_edit_rewrites_no_stored_figure(data):
    metric_services.recompute_all()
    services.investment_project_update(
        project=data.p1, actor=None, expected_version=data.p1.version, data={"amount": "700000000"}
    )

    def stored_rows():
        return list(
            Metric.objects.filter(subject_type__in=["company", "region"])
            .order_by("id")
            .values_list("id", "value", "inputs", "computed_at")
        )

    before = stored_rows()
    metric_services.recompute_subjects([], tables={"projects_investmentproject"})
    assert stored_rows() == before


def test_a_full_recompute_corrects_totals_changed_behind_the_triggers(data):
    metric_services.recompute_all()
    # Bypass the triggers, as a bulk load with triggers disabled would.
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "UPDATE projects_investmentproject SET amount = 1 WHERE id = %s", [data.p1.pk]
        )
        cursor.execute("SET session_replication_role = DEFAULT")
    metric_services.recompute_all()
    assert values("company", data.a.pk)[
        ("investment_total", key(amount_kind="capital_expenditure", currency="CNY"))
    ] == Decimal("1")
    assert corrections() == 0


def test_rederive_rewrites_figures_whose_totals_did_not_change(data):
    metric_services.recompute_all()
    figure = Metric.objects.get(
        subject_type="company", subject_id=data.b.pk, name="investment_total_usd"
    )
    Metric.objects.filter(pk=figure.pk).update(value=Decimal("1"))
    metric_services.recompute_all()
    assert Metric.objects.get(pk=figure.pk).value == 1  # totals unchanged: nothing queued
    metric_services.recompute_all(rederive=True)
    assert Metric.objects.get(pk=figure.pk).value == figure.value


def test_the_queue_migration_rewrites_old_entries_by_currency(data):
    """Entries queued before 0005 named a slice; each becomes one entry per currency in it."""
    convert = import_module("projects.migrations.0005_cell_change_keys").CONVERT_QUEUE
    metric_services.recompute_all()
    InvestmentCellChange.objects.all().delete()
    InvestmentCellChange.objects.bulk_create(
        [
            InvestmentCellChange(grain="company", subject_id=data.a.pk, part="commitment"),
            InvestmentCellChange(grain="region", subject_id=data.china.pk, part="commitment|2024"),
            InvestmentCellChange(grain="region", subject_id=data.china.pk, part="grant|2020|CNY"),
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(convert)
    queued = set(InvestmentCellChange.objects.values_list("grain", "subject_id", "part"))
    company_currencies = set(
        CompanyInvestmentCell.objects.filter(company=data.a, amount_kind="commitment").values_list(
            "currency", flat=True
        )
    )
    region_currencies = set(
        RegionInvestmentCell.objects.filter(
            region=data.china, amount_kind="commitment", year=2024
        ).values_list("currency", flat=True)
    )
    assert len(region_currencies) > 1
    assert queued == {
        *(("company", data.a.pk, f"commitment|{currency}") for currency in company_currencies),
        *(
            ("region", data.china.pk, f"commitment|2024|{currency}")
            for currency in region_currencies
        ),
        ("region", data.china.pk, "grant|2020|CNY"),  # already in the new form: kept
    }


class TestCellsFollowAnySequenceOfWrites(HypothesisTestCase):
    """Whatever projects are created, edited and deleted, the cells equal a fresh rebuild."""

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["create", "update", "delete"]),
                st.integers(min_value=0, max_value=50),
                st.sampled_from(["CNY", "USD", "EUR"]),
                st.sampled_from(["commitment", "capital_expenditure"]),
                st.integers(min_value=0, max_value=3),
                st.integers(min_value=0, max_value=10**9),
            ),
            min_size=1,
            max_size=12,
        )
    )
    def test_cells_equal_a_rebuild(self, steps):
        regions = [factories.RegionFactory(slug="root")]
        regions.append(factories.RegionFactory(slug="child", parent=regions[0]))
        regions.append(factories.RegionFactory(slug="leaf", parent=regions[1]))
        regions.append(factories.RegionFactory(slug="other", parent=regions[0]))
        companies = [factories.CompanyFactory(slug=f"c{n}") for n in range(2)]
        factories.ExchangeRateFactory(currency="USD", date=D(2024, 1, 1), rate_to_cny="7.1")
        for number, (action, pick, currency, amount_kind, place, amount) in enumerate(steps):
            existing = list(InvestmentProject.objects.order_by("id"))
            fields = {
                "amount": Decimal(amount) / 100,
                "currency": currency,
                "amount_kind": amount_kind,
                "region": regions[place],
                "company": companies[pick % 2],
                "announced_on": D(2023, 1, 1) + datetime.timedelta(days=pick * 20),
            }
            if action == "create" or not existing:
                factories.InvestmentProjectFactory(slug=f"p{number}", **fields)
            elif action == "update":
                InvestmentProject.objects.filter(pk=existing[pick % len(existing)].pk).update(
                    **fields
                )
            else:
                existing[pick % len(existing)].delete()
        assert corrections() == 0


@pytest.mark.parametrize("family_key", ["company.investment", "region.investment"])
def test_a_keyed_run_never_rescans_its_queue_per_row(data, family_key):
    """The planner cannot estimate a CTE's rows; a join against the queued cells it nests, or
    a subquery over them it runs once per row, compares every pair (a 1% edit at scale: tens
    of seconds). The queue is only ever hashed, or drives one index probe per entry."""
    from django.conf import settings

    from portal.metrics import registry, sql

    metric_services.recompute_all()
    with connection.cursor() as cursor:
        # Statistics of an empty queue, as after a full run: the planner then expects no
        # queued cells whatever a burst of edits adds (how the trap was found at scale).
        cursor.execute("ANALYZE projects_investmentcellchange")
    services.investment_project_update(
        project=data.p1, actor=None, expected_version=data.p1.version, data={"amount": "700000000"}
    )
    family = registry.family(family_key)
    statement = sql.UPSERT_FAMILY.replace("{pending_sql}", family.pending_sql).replace(
        "{family_sql}", family.sql
    )
    params = {
        "family": family.key,
        "subject_type": family.subject_type,
        "names": list(family.names),
        "subject_ids": None,
        "input_version": None,
        "today": datetime.date.today(),
        "pending_only": True,
        "live": True,
    }
    with connection.cursor() as cursor:
        # The settings the run itself plans under (this test's transaction only).
        cursor.execute(
            sql.FAMILY_LOCK,
            {"family": family.key, "work_mem": settings.METRICS_WORK_MEM, "nested_loops": "off"},
        )
        cursor.execute("EXPLAIN (FORMAT JSON) " + statement, params)
        (plan,) = cursor.fetchone()
    plan = plan[0] if isinstance(plan, list) else json.loads(plan)[0]

    def runs_once(node) -> bool:
        return node.get("Parent Relationship") == "InitPlan" or node.get(
            "Subplan Name", ""
        ).startswith("hashed")

    def scans(node):
        """The CTEs a node reads each time it runs (an InitPlan or hashed SubPlan: once)."""
        if node.get("Node Type") == "CTE Scan":
            yield node["CTE Name"]
        for child in node.get("Plans", []):
            if not runs_once(child):
                yield from scans(child)

    def repeated(node):
        """The parts of the plan run once per row of something else."""
        children = node.get("Plans", [])
        if node.get("Node Type") == "Nested Loop":
            yield children[1]
        for child in children:
            if child.get("Parent Relationship") == "SubPlan" and not runs_once(child):
                yield child
            yield from repeated(child)

    queue = {"scope", "queued_cells", "queued_slices", "cells"}
    for part in repeated(plan["Plan"]):
        assert not queue & set(scans(part)), part
