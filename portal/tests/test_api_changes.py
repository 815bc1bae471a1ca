"""Change feed: replaying it reproduces the lists, and it never skips a late commit."""

import time

import psycopg
import pytest
from django.db import connection

from companies.services import company_create, company_delete, company_update
from portal.api.changes import decode_feed_cursor, encode_feed_cursor
from portal.models import Change
from portal.services import citation_create, region_create, source_create
from tests.api_mixins import api_client, assert_error
from tests.factories import StaffUserFactory, UserFactory

FEED = "/api/v1/changes/"
DEADLINE_SECONDS = 60  # other sessions' open transactions hold the horizon back briefly


def replay(client, mirror: dict, since: str | None = None) -> tuple[str, int]:
    """Apply the feed to `mirror` until it is drained; returns the cursor and last change id."""
    last_change = 0
    url = FEED + (f"?since={since}" if since else "")
    while True:
        body = client.get(url).json()
        for entry in body["results"]:
            key = (entry["resource"], entry["id"])
            if entry["action"] == "deleted":
                mirror.pop(key, None)
            elif entry["data"] is not None:
                mirror[key] = entry["data"]
            last_change = max(last_change, entry["change"])
        url = body["next"]
        if not body["more"]:
            return url.split("since=")[1], last_change


def replay_until(client, mirror: dict, target_change: int) -> str:
    deadline = time.monotonic() + DEADLINE_SECONDS
    cursor, seen = None, 0
    while True:
        cursor, last = replay(client, mirror, cursor)
        seen = max(seen, last)
        if seen >= target_change or time.monotonic() > deadline:
            assert seen >= target_change, "the feed never caught up"
            return cursor
        time.sleep(0.2)


def listed(client, endpoint: str) -> dict:
    items, url = {}, f"/api/v1/{endpoint}/?page_size=1000"
    while url:
        body = client.get(url).json()
        items.update({(endpoint, item["id"]): item for item in body["results"]})
        url = body["next"]
    return items


@pytest.mark.django_db(transaction=True)
def test_replaying_the_feed_reproduces_the_lists():
    actor = StaffUserFactory()
    client = api_client(UserFactory())
    region = region_create(
        actor=actor, data={"slug": "pudong", "kind": "district", "name_en": "Pudong"}
    )
    a, b, c = (
        company_create(
            actor=actor, data={"slug": s, "name_en": s.upper(), "registered_region": region}
        )
        for s in ("alpha", "beta", "gamma")
    )
    company_update(company=a, actor=actor, expected_version=1, data={"name_en": "Alpha 2"})
    source = source_create(actor=actor, data={"key": "notice", "title": "Notice"})
    citation_create(actor=actor, subject=b, source=source, excerpt="Beta is cited.")
    company_delete(company=c, actor=actor, expected_version=1)
    mirror: dict = {}
    replay_until(client, mirror, Change.objects.latest("id").id)
    for endpoint in ("companies", "regions", "sources"):
        expected = listed(client, endpoint)
        assert {k: v for k, v in mirror.items() if k[0] == endpoint} == expected, endpoint
    companies = {k[1]: v for k, v in mirror.items() if k[0] == "companies"}
    assert sorted(item["name_en"] for item in companies.values()) == ["Alpha 2", "BETA"]
    assert companies[b.pk]["citations"][0]["excerpt"] == "Beta is cited."


@pytest.mark.django_db(transaction=True)
def test_changes_of_newer_transactions_wait_for_older_ones():
    actor = StaffUserFactory()
    client = api_client(UserFactory())
    mirror: dict = {}
    cursor = replay_until(client, mirror, 0)
    db = connection.settings_dict
    older = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=False
    )
    try:
        older.execute("SELECT txid_current()")  # an open transaction holding an xid
        company = company_create(actor=actor, data={"slug": "late", "name_en": "Late"})
        # Committed, but a transaction older than it is still running: not emitted yet.
        body = client.get(f"{FEED}?since={cursor}").json()
        assert company.pk not in [e["id"] for e in body["results"] if e["resource"] == "companies"]
    finally:
        older.rollback()
        older.close()
    replay_until(client, mirror, Change.objects.latest("id").id)
    assert mirror[("companies", company.pk)]["slug"] == "late"


@pytest.mark.django_db
def test_bad_feed_cursors_are_400():
    client = api_client()
    for bad in ("%%%", encode_feed_cursor(1, 2)[:-3] + "!!!", "W1siYSJdXQ", "a" * 300):
        assert_error(client.get(FEED, {"since": bad}), 400, "since")
    assert decode_feed_cursor(encode_feed_cursor(7, 9)) == (7, 9)
