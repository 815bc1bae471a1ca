"""Several metric families at once: on their own connections, in job order, errors after all."""

import threading

import pytest
from django.db import connection

from portal.metrics import registry, services
from portal.models import Metric
from portal.tests.metrics_dataset import build, values


def _jobs(*keys):
    return [(registry.family(key), {"marker": key}) for key in keys]


def _result(key):
    return services.FamilyResult(key, 1, 0, 0, 0, 0)


def test_families_run_at_once_outside_a_transaction_and_results_keep_job_order(
    monkeypatch, settings
):
    settings.METRICS_PARALLEL_FAMILIES = 2
    # Passes only when two families are inside recompute_family at the same moment.
    both_running = threading.Barrier(2, timeout=10)
    threads = set()

    def recompute_family(key, **kwargs):
        threads.add(threading.current_thread().name)
        if registry.family(key).keyed:
            both_running.wait()
        return _result(key)

    monkeypatch.setattr(services, "recompute_family", recompute_family)
    progressed = []
    keys = ("company.facilities", "company.investment", "region.investment")
    results = services.run_families(_jobs(*keys), progress=progressed.append)

    assert [result.family for result in results] == list(keys)
    assert sorted(result.family for result in progressed) == sorted(keys)
    assert len(threads) == 2 and threading.current_thread().name not in threads


@pytest.mark.django_db
def test_inside_a_callers_transaction_families_run_one_after_another_on_its_connection(
    monkeypatch, settings
):
    settings.METRICS_PARALLEL_FAMILIES = 4
    seen = []

    def recompute_family(key, **kwargs):
        seen.append((threading.current_thread(), connection.in_atomic_block))
        return _result(key)

    monkeypatch.setattr(services, "recompute_family", recompute_family)
    services.run_families(_jobs("company.investment", "region.investment"))

    assert seen == [(threading.current_thread(), True)] * 2


def test_one_family_failing_lets_the_others_finish_then_raises(monkeypatch, settings):
    settings.METRICS_PARALLEL_FAMILIES = 2
    finished = []

    def recompute_family(key, **kwargs):
        if key == "company.investment":
            raise RuntimeError("boom")
        finished.append(key)
        return _result(key)

    monkeypatch.setattr(services, "recompute_family", recompute_family)
    with pytest.raises(RuntimeError, match="boom"):
        services.run_families(_jobs("company.investment", "region.investment", "portal.investment"))
    assert sorted(finished) == ["portal.investment", "region.investment"]


@pytest.mark.django_db(transaction=True)
def test_a_parallel_full_recompute_stores_what_a_sequential_one_does(settings):
    data = build()
    settings.METRICS_PARALLEL_FAMILIES = 1
    services.recompute_all()
    sequential = {
        subject: dict(values(*subject))
        for subject in [("region", data.china.pk), ("company", data.a.pk), ("portal", None)]
    }
    Metric.objects.all().delete()

    settings.METRICS_PARALLEL_FAMILIES = 3
    services.recompute_all(rederive=True)

    assert {subject: dict(values(*subject)) for subject in sequential} == sequential
    # Each thread gave its connection back to the pool: only this test's own is out.
    stats = connection.pool.get_stats()
    assert stats["pool_size"] - stats["pool_available"] <= 1
