"""Which subjects a write dirties, the hook's behaviour with Redis down, the reconciler, the
management command and the admin action."""

import datetime

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from companies import services as company_services
from portal.metrics import dirty, services
from portal.models import Metric
from portal.tests.metrics_dataset import build, values
from tests import factories

pytestmark = pytest.mark.django_db

OPERATIONAL = ("facilities_by_status", '{"status": "operational"}')


@pytest.fixture
def data():
    return build()


@pytest.fixture
def no_hook_side_effects(monkeypatch):
    """Capture what the hook would mark dirty instead of talking to Redis."""
    marked = []
    monkeypatch.setattr(
        dirty, "mark_dirty", lambda subjects, tables=None: marked.extend(subjects) or True
    )
    return marked


def test_a_facility_move_dirties_both_regions_ancestors_company_policies_and_portal(
    data, no_hook_side_effects
):
    facility = company_services.facility_update(
        facility=data.f1, actor=None, expected_version=None, data={"region": data.beijing}
    )
    subjects = set(services.resolve_subjects_for_write(facility))
    assert subjects >= {
        ("company", data.a.pk),
        ("region", data.zhangjiang.pk),  # old region
        ("region", data.pudong.pk),
        ("region", data.shanghai.pk),
        ("region", data.beijing.pk),  # new region
        ("region", data.china.pk),
        ("policy", data.plan.pk),  # targets in Shanghai/Pudong, jurisdiction Shanghai
        ("portal", None),
    }
    assert ("region", data.lingang.pk) not in subjects
    assert ("company", data.b.pk) not in subjects


def test_the_hook_runs_after_commit_and_marks_subjects(
    data, no_hook_side_effects, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        company_services.facility_update(
            facility=data.f1, actor=None, expected_version=None, data={"status": "closed"}
        )
    assert ("company", data.a.pk) in no_hook_side_effects
    assert ("region", data.china.pk) in no_hook_side_effects


def test_hook_never_fails_or_hangs_when_redis_is_down(data, django_capture_on_commit_callbacks):
    with override_settings(REDIS_URL="redis://127.0.0.1:9/0"):
        dirty._client = None
        try:
            # The write commits and the request goes on: the hook logs and gives up.
            with django_capture_on_commit_callbacks(execute=True):
                company_services.facility_update(
                    facility=data.f1,
                    actor=None,
                    expected_version=None,
                    data={"status": "closed"},
                )
            assert dirty.mark_dirty([("company", data.a.pk)]) is False
        finally:
            dirty._client = None
    data.f1.refresh_from_db()
    assert data.f1.status == "closed"


def test_reconciler_recomputes_what_a_lost_task_missed(data):
    services.recompute_all()
    # A write whose recompute was never enqueued (e.g. Redis was down): audited, not applied.
    company_services.facility_update(
        facility=data.f1, actor=None, expected_version=None, data={"status": "closed"}
    )
    assert values("region", data.pudong.pk)[OPERATIONAL] == 1
    stale = set(services.stale_subjects(timezone.now() - datetime.timedelta(hours=1)))
    assert ("region", data.pudong.pk) in stale
    assert ("region", data.beijing.pk) not in stale
    services.reconcile()
    assert OPERATIONAL not in values("region", data.pudong.pk)
    assert ("region", data.pudong.pk) not in set(
        services.stale_subjects(timezone.now() - datetime.timedelta(hours=1))
    )


def test_recompute_metrics_command_full_and_reconcile(data):
    call_command("recompute_metrics", "--full")
    assert values("region", data.china.pk)[OPERATIONAL] == 2
    factories.FacilityFactory(slug="f10", company=data.c, region=data.beijing, status="operational")
    company_services.facility_update(
        facility=data.f1, actor=None, expected_version=None, data={"name_en": "F1 renamed"}
    )
    call_command("recompute_metrics")  # reconcile: the audited edit dirties China too
    assert values("region", data.china.pk)[OPERATIONAL] == 3


def test_admin_action_queues_a_full_recompute(data, client, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "portal.metrics.tasks.recompute_all_metrics.delay", lambda: queued.append(True)
    )
    client.force_login(factories.StaffUserFactory())
    url = reverse("admin:portal_figure_changelist")
    assert client.get(url).status_code == 200
    response = client.post(url, {"action": "recompute_metrics", "index": 0}, follow=True)
    assert response.status_code == 200
    assert queued == [True]
    assert Metric.objects.count() == 0  # queued, not run in the request
