"""Services called directly (API, tasks, commands) leave history rows naming the actor."""

import datetime

import pytest
from django.db import transaction

from companies.services import company_create, facility_status_change_create
from portal.models import Change
from portal.services import ConcurrentEditError, curated_update
from tests import factories

pytestmark = pytest.mark.django_db


def test_entity_service_create_and_update_are_audited_with_the_actor():
    analyst = factories.UserFactory(username="api-client")
    region = factories.RegionFactory()

    company = company_create(
        actor=analyst, data={"slug": "acme", "name_en": "Acme", "registered_region": region}
    )
    curated_update(company, actor=analyst, expected_version=1, data={"name_en": "Acme Ltd"})

    history = Change.objects.for_object(company).order_by("id")
    assert [(c.action, c.actor_id, c.actor_label) for c in history] == [
        ("created", analyst.pk, "api-client"),
        ("updated", analyst.pk, "api-client"),
    ]


def test_status_change_service_moves_current_status_in_the_same_audited_transaction():
    curator = factories.UserFactory(username="curator")
    facility = factories.FacilityFactory(status="announced")

    change = facility_status_change_create(
        actor=curator,
        data={"facility": facility, "status": "operational", "date": datetime.date(2024, 6, 1)},
    )

    facility.refresh_from_db()
    assert (facility.status, facility.status_since) == ("operational", datetime.date(2024, 6, 1))
    update = Change.objects.for_object(facility).get(action="updated")
    created = Change.objects.for_object(change).get()
    assert update.actor_label == created.actor_label == "curator"
    assert update.transaction_id == created.transaction_id


def test_refused_stale_update_writes_no_history():
    curator = factories.UserFactory(username="curator")
    company = factories.CompanyFactory()
    curated_update(company, actor=curator, expected_version=1, data={"name_en": "v2"})
    before = Change.objects.count()

    with pytest.raises(ConcurrentEditError), transaction.atomic():
        curated_update(company, actor=curator, expected_version=1, data={"name_en": "v3"})

    assert Change.objects.count() == before
