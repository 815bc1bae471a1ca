"""End to end with a REAL Celery worker and Redis: a service edit (or an admin save) changes
the affected metrics shortly after, through the after-write hook and the debounced task."""

import time

import pytest
from django.urls import reverse

from companies import services as company_services
from portal.metrics import dirty, services
from portal.tests.metrics_dataset import build, values

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

OPERATIONAL = ("facilities_by_status", '{"status": "operational"}')
CLOSED = ("facilities_by_status", '{"status": "closed"}')


def wait_for(predicate, timeout=2.0):
    """Poll the database until the predicate holds (no blind sleeping); False on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def data(celery_worker_process):
    dirty._client = None
    dirty.redis_client().delete(dirty.DIRTY_KEY, dirty.DIRTY_TABLES_KEY, dirty.DEBOUNCE_KEY)
    dataset = build()
    services.recompute_all()
    return dataset


def test_service_edit_updates_metrics_through_the_worker(data, celery_worker_process):
    assert values("region", data.china.pk)[OPERATIONAL] == 2
    company_services.facility_update(
        facility=data.f1, actor=None, expected_version=None, data={"status": "closed"}
    )
    # Each family commits on its own: wait for the last one to run (portal-wide).
    assert wait_for(
        lambda: (
            values("region", data.china.pk).get(CLOSED) == 1
            and values("portal", None).get(OPERATIONAL) == 1
        )
    ), celery_worker_process.log_tail()
    assert values("region", data.china.pk)[OPERATIONAL] == 1
    assert values("company", data.a.pk)[CLOSED] == 1


def test_a_burst_of_edits_coalesces_and_ends_correct(data, celery_worker_process):
    facility = data.f1
    for status in ["closed", "planned", "under_construction", "closed"]:
        facility = company_services.facility_update(
            facility=facility, actor=None, expected_version=None, data={"status": status}
        )
    assert wait_for(lambda: values("region", data.pudong.pk).get(CLOSED) == 1), (
        celery_worker_process.log_tail()
    )
    assert OPERATIONAL not in values("region", data.pudong.pk)


def change_form_data(response) -> dict:
    """What a browser posts back: the change form, its inline forms and management forms."""

    def fields(form, data):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            data[form[name].html_name] = "on" if value is True else str(value)

    data = {}
    fields(response.context["adminform"].form, data)
    for inline in response.context["inline_admin_formsets"]:
        fields(inline.formset.management_form, data)
        for form in inline.formset.initial_forms:
            fields(form, data)
    return data


def test_admin_change_view_edit_updates_metrics(data, admin_client, celery_worker_process):
    url = reverse("admin:companies_facility_change", args=[data.f1.pk])
    post = change_form_data(admin_client.get(url))
    post["region"] = str(data.beijing.pk)  # move F1 (operational) from Zhangjiang to Beijing
    response = admin_client.post(url, post)
    assert response.status_code == 302
    assert wait_for(lambda: values("region", data.beijing.pk).get(OPERATIONAL) == 2), (
        celery_worker_process.log_tail()
    )
    assert OPERATIONAL not in values("region", data.zhangjiang.pk)
