"""Recompute mechanics: idempotence, the stale-version guard, deletions, history, bounded SQL."""

import datetime

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.metrics import registry, services, tasks
from portal.metrics.selectors import metric_history
from portal.models import Metric, MetricComputation, MetricSnapshot
from portal.tests.metrics_dataset import build, key, values
from projects.models import InvestmentCellChange
from tests import factories

pytestmark = pytest.mark.django_db

OPERATIONAL = ("facilities_by_status", '{"status": "operational"}')


@pytest.fixture
def data():
    return build()


def snapshot_count(region):
    """How many times the region's facilities-by-status figures were rewritten."""
    return sum(
        any(figure.startswith("facilities_by_status ") for figure in figures)
        for figures in MetricSnapshot.objects.filter(
            subject_type="region", subject_id=region.pk
        ).values_list("figures", flat=True)
    )


def test_running_twice_leaves_the_same_values_and_no_new_history(data):
    services.recompute_all()
    first = {r: dict(values(*r)) for r in [("region", data.china.pk), ("company", data.a.pk)]}
    snapshots = MetricSnapshot.objects.count()
    results = services.recompute_all()
    assert {r: dict(values(*r)) for r in first} == first
    assert MetricSnapshot.objects.count() == snapshots
    assert all(result.snapshots == 0 for result in results)
    # Unchanged rows are not rewritten; the ledger records that every family was verified,
    # except keyed ones, whose empty queue of changed totals says the same.
    assert sum(result.written for result in results) == 0
    ledger = MetricComputation.objects.filter(subject_id__isnull=True)
    assert {row.family: row.input_version for row in ledger} == {
        result.family: result.input_version
        for result in results
        if not registry.family(result.family).keyed
    }
    assert not InvestmentCellChange.objects.exists()


def test_a_stale_run_never_overwrites_newer_values(data):
    services.recompute_all()
    old_version = Metric.objects.get(subject_type="portal", name="data_version").input_version
    factories.FacilityFactory(slug="f5", company=data.b, region=data.lingang, status="operational")
    services.recompute_all()  # sees F5: Pudong has 2 operational facilities
    assert values("region", data.pudong.pk)[OPERATIONAL] == 2
    # A task that started before F5 existed finishes late: labelled with the older version.
    tasks.recompute_family.apply(args=["region.facilities"], kwargs={"input_version": old_version})
    tasks.recompute_subjects.apply(
        args=[[["region", data.pudong.pk], ["company", data.b.pk]]],
        kwargs={"input_version": old_version},
    )
    assert values("region", data.pudong.pk)[OPERATIONAL] == 2
    # ...and the current run (in any order, any number of times) keeps the correct value.
    tasks.recompute_family.apply(args=["region.facilities"])
    tasks.recompute_family.apply(args=["region.facilities"])
    assert values("region", data.pudong.pk)[OPERATIONAL] == 2


def test_stale_run_does_not_delete_rows_written_by_a_newer_run(data):
    services.recompute_all()
    old_version = Metric.objects.get(subject_type="portal", name="data_version").input_version
    factories.FacilityFactory(slug="f6", company=data.b, region=data.lingang, status="closed")
    services.recompute_all()
    closed = ("facilities_by_status", key(status="closed"))
    assert values("region", data.lingang.pk)[closed] == 1
    # An old run (pinned to the old version) sees no closed facility in the region... it sees
    # the current data, but is refused; pin it to simulate a run that started before F6.
    services.recompute_family("region.facilities", input_version=old_version)
    assert values("region", data.lingang.pk)[closed] == 1


def test_subjects_without_rows_lose_their_metrics_and_history_records_it(data):
    services.recompute_all()
    factories.FacilityFactory(slug="f7", company=data.c, region=data.beijing, status="closed")
    services.recompute_subjects([("region", data.beijing.pk)])
    closed = ("facilities_by_status", key(status="closed"))
    assert values("region", data.beijing.pk)[closed] == 1
    from companies.models import Facility

    Facility.objects.filter(slug="f7").delete()
    services.recompute_subjects([("region", data.beijing.pk)])
    assert closed not in values("region", data.beijing.pk)
    history = list(
        metric_history("region", data.beijing.pk, *closed).values_list("value", flat=True)
    )
    assert history == [1, None]


def test_incremental_recompute_touches_only_the_named_subjects(data):
    services.recompute_all()
    factories.FacilityFactory(
        slug="f8", company=data.a, region=data.zhangjiang, status="operational"
    )
    services.recompute_subjects([("region", data.zhangjiang.pk)])
    assert values("region", data.zhangjiang.pk)[OPERATIONAL] == 2
    assert values("region", data.pudong.pk)[OPERATIONAL] == 1  # not named: not yet updated
    history = snapshot_count(data.zhangjiang)
    services.recompute_subjects([("region", data.pudong.pk)])
    assert values("region", data.pudong.pk)[OPERATIONAL] == 2
    assert snapshot_count(data.zhangjiang) == history


def test_full_recompute_issues_a_bounded_number_of_statements(data):
    def statements():
        with CaptureQueriesContext(connection) as captured:
            services.recompute_all()
        return len(captured.captured_queries)

    small = statements()
    for n in range(40):
        company = factories.CompanyFactory(slug=f"bulk-{n}", registered_region=data.pudong)
        factories.FacilityFactory(slug=f"bulk-f-{n}", company=company, region=data.lingang)
        factories.InvestmentProjectFactory(
            slug=f"bulk-p-{n}",
            company=company,
            region=data.lingang,
            currency="USD",
            announced_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=n),
        )
    large = statements()
    assert large == small
    # Per family and per refresh of running totals: savepoint, advisory lock, the statement,
    # release (+2 for exposure lookups).
    steps = len(services.registry.families()) + len(services.registry.refreshes())
    assert small <= 4 * steps + 2
    assert values("region", data.pudong.pk)[("companies", "{}")] == 42


def test_history_appends_a_snapshot_only_when_a_value_changes(data):
    services.recompute_all()
    before = snapshot_count(data.china)
    services.recompute_all()
    assert snapshot_count(data.china) == before
    factories.FacilityFactory(slug="f9", company=data.c, region=data.beijing, status="operational")
    services.recompute_all()
    assert snapshot_count(data.china) == before + 1
    series = metric_history("region", data.china.pk, *OPERATIONAL)
    assert [s.value for s in series] == [2, 3]
    # One history row per subject and run, holding every figure the run rewrote.
    latest = series.last()
    assert latest.family == "region.facilities"
    assert latest.figures[MetricSnapshot.figure_key(*OPERATIONAL)] == 3


def test_an_edit_recomputes_only_the_families_that_read_its_table(data):
    facility_families = services.recompute_subjects(
        [("company", data.a.pk), ("region", data.pudong.pk)], tables={"companies_facility"}
    )
    assert {result.family for result in facility_families} == {
        "company.facilities",
        "region.facilities",
    }
    # Keyed families run on their queue of changed cells whenever their table changed, so
    # region.investment runs although no region was named.
    project_families = services.recompute_subjects(
        [("company", data.a.pk)], tables={"projects_investmentproject"}
    )
    assert {result.family for result in project_families} == {
        "company.investment",
        "region.investment",
    }


def test_every_table_that_dirties_subjects_is_read_by_some_family():
    read = {table for family in registry.families() for table in family.tables}
    assert registry.mapped_tables() <= read


def test_a_subject_verified_after_an_edit_is_no_longer_stale_even_if_its_figures_did_not_move(
    data,
):
    services.recompute_all()
    since = timezone.now()
    from companies.models import Facility

    # A rename changes no figure, so no metric row is rewritten...
    Facility.objects.filter(pk=data.f1.pk).update(name_en="Renamed", version=F("version") + 1)
    assert ("company", data.a.pk) in services.stale_subjects(since)
    results = services.recompute_subjects([("company", data.a.pk)], tables={"companies_facility"})
    assert sum(result.written for result in results) == 0
    # ...yet the ledger records the verification, so the reconciler does not redo it forever.
    assert ("company", data.a.pk) not in services.stale_subjects(since)
    assert MetricComputation.objects.filter(
        family="company.facilities", subject_id=data.a.pk
    ).exists()
    # A later full run supersedes the per-subject ledger rows.
    services.recompute_all()
    assert not MetricComputation.objects.filter(subject_id=data.a.pk).exists()
