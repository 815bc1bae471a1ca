"""200 racing pairs: a curator's admin save and an API PATCH of the same company, both
carrying the version they read. Exactly one of each pair may win; every win must be in the
audit history as its own version, and the final record is the last win: no lost update.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from companies.models import Company
from portal.models import Change
from portal.services import api_token_issue
from tests import factories
from tests.reliability.conftest import record

pytestmark = [pytest.mark.reliability]

PAIRS = 200
CONFLICT = "was changed by someone else"


def _change_form_data(response) -> dict[str, str]:
    """The POST body a browser sends back: every field of the rendered change form."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None or value is False:
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        data[name] = "on" if value is True else str(value)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management[name].html_name] = str(management[name].value())
    return data


def test_admin_and_api_races_lose_no_update(transactional_db):
    company = factories.CompanyFactory(name_en="Race 0")
    curator = factories.StaffUserFactory(username="race-curator")
    api_user = factories.StaffUserFactory(username="race-api")
    _, raw = api_token_issue(user=api_user, name="race")
    admin_url = reverse("admin:companies_company_change", args=[company.pk])
    api_url = f"/api/v1/companies/{company.slug}/"

    barrier = threading.Barrier(2, timeout=60)
    outcomes: list[dict] = [{} for _ in range(PAIRS)]
    prepared: list[dict] = [{} for _ in range(PAIRS)]

    def admin_side() -> None:
        client = Client()
        client.force_login(curator)
        # The rendered form once; per pair only the version it was "loaded" at changes (what
        # a curator who opened the page at that version would send).
        form = _change_form_data(client.get(admin_url))
        try:
            for i in range(PAIRS):
                version = Company.objects.values_list("version", flat=True).get(pk=company.pk)
                prepared[i]["admin_version"] = version
                form["loaded_version"] = str(version)
                barrier.wait()
                response = client.post(admin_url, {**form, "name_en": f"admin-{i}"})
                if response.status_code == 302:
                    outcomes[i]["admin"] = "won"
                elif response.status_code == 200 and CONFLICT in response.content.decode():
                    outcomes[i]["admin"] = "conflict"
                else:
                    outcomes[i]["admin"] = f"unexpected {response.status_code}"
                barrier.wait()  # both sides done before the next pair reads
        finally:
            connections.close_all()

    def api_side() -> None:
        client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
        try:
            for i in range(PAIRS):
                version = Company.objects.values_list("version", flat=True).get(pk=company.pk)
                prepared[i]["api_version"] = version
                etag = f'"{version}"'  # the version part of the ETag is what If-Match checks
                barrier.wait()
                response = client.patch(
                    api_url,
                    data={"name_en": f"api-{i}"},
                    content_type="application/json",
                    headers={"If-Match": etag},
                )
                outcomes[i]["api"] = {200: "won", 412: "conflict"}.get(
                    response.status_code, f"unexpected {response.status_code}"
                )
                barrier.wait()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=admin_side), threading.Thread(target=api_side)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    company.refresh_from_db()
    history = {
        change.new_data["version"]: change.new_data["name_en"]
        for change in Change.objects.for_object(company).filter(action="updated")
    }
    wins = []  # (version written, value) of every successful save, in order
    one_winner = both_won = both_refused = unexpected = 0
    for i, (outcome, read) in enumerate(zip(outcomes, prepared, strict=True)):
        won = [side for side in ("admin", "api") if outcome.get(side) == "won"]
        unexpected += sum(1 for v in outcome.values() if v.startswith("unexpected"))
        if len(won) == 1:
            one_winner += 1
        elif len(won) == 2:
            both_won += 1
        else:
            both_refused += 1
        for side in won:
            wins.append((read[f"{side}_version"] + 1, f"{side}-{i}"))
    # A win is lost unless the history holds its value as the version it wrote.
    lost = [win for win in wins if history.get(win[0]) != win[1]]
    expected_final = wins[-1][1] if wins else "Race 0"
    figures = record(
        "races",
        pairs=PAIRS,
        one_winner=one_winner,
        both_won=both_won,
        both_refused=both_refused,
        unexpected=unexpected,
        wins=len(wins),
        final_version=company.version,
        lost_updates=len(lost) + (company.name_en != expected_final),
    )
    assert unexpected == 0, figures
    assert both_won == 0, figures  # both read the same version: one must be refused
    assert both_refused == 0, figures
    assert lost == [], lost[:5]
    assert company.version == 1 + len(wins), figures
    assert company.name_en == expected_final, figures
