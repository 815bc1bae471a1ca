"""Curating in admin: no lost updates, every write audited with the curator, history diffs."""

import re
import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from companies.models import Company, CompanyAlias
from portal.models import ApiToken, Change, Citation, Region
from portal.services import (
    ConcurrentEditError,
    api_token_issue,
    curated_update,
)
from tests import factories

pytestmark = pytest.mark.django_db

CONFLICT = "was changed by someone else since you opened it"


def _logged_in(username: str) -> Client:
    client = Client()
    client.force_login(factories.StaffUserFactory(username=username))
    return client


def _change_form_data(response) -> dict[str, str]:
    """The POST body a browser would send back: every field of the rendered change form."""
    form = response.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            continue
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        data[name] = str(value) if not isinstance(value, bool) else ("on" if value else "")
        if isinstance(value, bool) and not value:
            data.pop(name)
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management[name].html_name] = str(management[name].value())
    return data


def _company_url(company, view="change"):
    return reverse(f"admin:companies_company_{view}", args=[company.pk])


def test_two_curators_saving_the_same_company_cannot_overwrite_each_other():
    company = factories.CompanyFactory(name_en="Original")
    alice, bob = _logged_in("alice"), _logged_in("bob")
    alice_form = _change_form_data(alice.get(_company_url(company)))
    bob_form = _change_form_data(bob.get(_company_url(company)))
    assert alice_form["loaded_version"] == bob_form["loaded_version"] == "1"

    first = alice.post(_company_url(company), {**alice_form, "name_en": "Alice's name"})
    second = bob.post(_company_url(company), {**bob_form, "name_en": "Bob's name"})

    assert first.status_code == 302
    assert second.status_code == 200
    assert CONFLICT in second.content.decode()
    company.refresh_from_db()
    assert company.name_en == "Alice's name"
    assert company.version == 2
    updates = Change.objects.for_object(company).filter(action="updated")
    assert [(u.actor_label, u.diff()) for u in updates] == [
        ("alice", [("name_en", "Original", "Alice's name")])
    ]


def test_conflict_found_only_under_the_row_lock_shows_the_form_not_a_500(monkeypatch):
    """The race the early form check cannot see: the service refuses, the admin shows the form."""
    company = factories.CompanyFactory(name_en="Original")
    alice = _logged_in("alice")
    form = _change_form_data(alice.get(_company_url(company)))
    from portal import admin_base

    real_save = admin_base.curated_save

    def someone_saves_first(instance, **kwargs):
        # Another transaction commits between this request's read and its save.
        Company.objects.filter(pk=instance.pk).update(version=7)
        return real_save(instance, **kwargs)

    monkeypatch.setattr(admin_base, "curated_save", someone_saves_first)
    response = alice.post(_company_url(company), {**form, "name_en": "Lost?"})

    assert response.status_code == 200
    assert CONFLICT in response.content.decode()
    assert "version 7" in response.content.decode()
    company.refresh_from_db()
    assert company.name_en == "Original"


@pytest.mark.django_db(transaction=True)
def test_two_threads_saving_the_same_version_get_exactly_one_conflict():
    company = factories.CompanyFactory(name_en="Original")
    actor = factories.StaffUserFactory(username="thread-curator")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def save(name: str) -> None:
        try:
            stale = Company.objects.get(pk=company.pk)
            barrier.wait(timeout=10)
            curated_update(stale, actor=actor, expected_version=1, data={"name_en": name})
            outcomes.append("saved")
        except ConcurrentEditError:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["conflict", "saved"]
    company.refresh_from_db()
    assert company.version == 2
    assert Change.objects.for_object(company).filter(action="updated").count() == 1


def _inline_rows(response, model) -> tuple[str, dict[str, str]]:
    """The prefix and POST body of the rendered rows of `model`'s inline, as a browser sends."""
    formset = next(
        f.formset for f in response.context["inline_admin_formsets"] if f.formset.model is model
    )
    data = {}
    for row in formset.forms:
        for name in row.fields:
            value = row[name].value()
            if value is None or value is False:
                continue
            data[row[name].html_name] = str(value)
    return formset.prefix, data


def _alias_page(client, company):
    response = client.get(_company_url(company))
    prefix, rows = _inline_rows(response, CompanyAlias)
    return response, prefix, {**_change_form_data(response), **rows}


def test_inline_rows_carry_their_loaded_version_in_the_page():
    company = factories.CompanyFactory()
    alias = CompanyAlias.objects.create(company=company, name="Old alias", version=4)
    response, prefix, data = _alias_page(_logged_in("alice"), company)

    assert data[f"{prefix}-0-id"] == str(alias.pk)
    assert data[f"{prefix}-0-loaded_version"] == "4"
    assert f'name="{prefix}-0-loaded_version"' in response.content.decode()


def test_an_inline_row_changed_elsewhere_meanwhile_is_not_overwritten_from_the_parent_page():
    """The row is edited on its own (API, its own admin page) while the parent stays as it was:
    the parent's version cannot catch that, the row's own version must."""
    company = factories.CompanyFactory(name_en="Original")
    alias = CompanyAlias.objects.create(company=company, name="Old alias")
    bob = _logged_in("bob")
    _, prefix, bob_data = _alias_page(bob, company)
    curated_update(
        alias, actor=factories.StaffUserFactory(), expected_version=1, data={"name": "API alias"}
    )

    response = bob.post(
        _company_url(company),
        {**bob_data, "name_en": "Bob's company name", f"{prefix}-0-name": "Bob alias"},
    )

    assert response.status_code == 200
    assert CONFLICT in response.content.decode()
    alias.refresh_from_db()
    company.refresh_from_db()
    assert (alias.name, alias.version) == ("API alias", 2)
    # Nothing of Bob's page was written, not even his edit of the company itself.
    assert (company.name_en, company.version) == ("Original", 1)


def test_inline_row_conflict_found_only_under_the_row_lock_names_the_row(monkeypatch):
    company = factories.CompanyFactory(name_en="Original")
    alias = CompanyAlias.objects.create(company=company, name="Old alias")
    alice = _logged_in("alice")
    _, prefix, data = _alias_page(alice, company)
    from portal import admin_base

    real_save = admin_base.curated_save

    def someone_saves_the_row_first(instance, **kwargs):
        if isinstance(instance, CompanyAlias):
            CompanyAlias.objects.filter(pk=instance.pk).update(version=9)
        return real_save(instance, **kwargs)

    monkeypatch.setattr(admin_base, "curated_save", someone_saves_the_row_first)
    response = alice.post(
        _company_url(company),
        {**data, "name_en": "Renamed", f"{prefix}-0-name": "Lost alias?"},
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "company alias “Lost alias?”" in page
    assert CONFLICT in page and "version 9" in page
    alias.refresh_from_db()
    company.refresh_from_db()
    assert alias.name == "Old alias"
    assert company.name_en == "Original"


def test_deleting_an_inline_row_someone_changed_meanwhile_is_refused():
    company = factories.CompanyFactory()
    alias = CompanyAlias.objects.create(company=company, name="Old alias")
    bob = _logged_in("bob")
    _, prefix, bob_data = _alias_page(bob, company)
    curated_update(
        alias, actor=factories.StaffUserFactory(), expected_version=1, data={"name": "Kept alias"}
    )

    response = bob.post(_company_url(company), {**bob_data, f"{prefix}-0-DELETE": "on"})

    assert response.status_code == 200
    # Named as the curator saw it on the page.
    assert "company alias “Old alias”" in response.content.decode()
    assert CONFLICT in response.content.decode()
    assert CompanyAlias.objects.get(pk=alias.pk).name == "Kept alias"


def test_an_inline_row_edit_on_a_fresh_page_is_saved_with_its_next_version():
    company = factories.CompanyFactory()
    alias = CompanyAlias.objects.create(company=company, name="Old alias")
    client = _logged_in("curator")
    _, prefix, data = _alias_page(client, company)

    response = client.post(_company_url(company), {**data, f"{prefix}-0-name": "New alias"})

    assert response.status_code == 302
    alias.refresh_from_db()
    assert (alias.name, alias.version) == ("New alias", 2)
    assert Change.objects.for_object(alias).get(action="updated").actor_label == "curator"


def test_admin_add_change_and_delete_are_audited_with_the_curator():
    client = _logged_in("curator")
    region = factories.RegionFactory()
    response = client.post(
        reverse("admin:companies_company_add"),
        {
            "slug": "new-co",
            "kind": "company",
            "name_en": "New Co",
            "name_zh_provenance": "official",
            "headquarters_country": "CN",
            "registered_region": region.pk,
            "modalities": "car_t",
            **_empty_inlines(client, "companies_company_add"),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    company = Company.objects.get(slug="new-co")

    form = _change_form_data(client.get(_company_url(company)))
    assert client.post(_company_url(company), {**form, "description": "Edited"}).status_code == 302
    assert client.post(_company_url(company, "delete"), {"post": "yes"}).status_code == 302

    history = Change.objects.filter(table_name="companies_company", object_pk=str(company.pk))
    assert [(c.action, c.actor_label) for c in history.order_by("id")] == [
        ("created", "curator"),
        ("updated", "curator"),
        ("deleted", "curator"),
    ]


def test_inline_citation_added_in_admin_is_saved_through_the_service_and_audited():
    client = _logged_in("curator")
    company = factories.CompanyFactory()
    source = factories.SourceFactory()
    response = client.get(_company_url(company))
    data = _change_form_data(response)
    prefix = next(
        f.formset.prefix
        for f in response.context["inline_admin_formsets"]
        if f.formset.model is Citation
    )
    data.update(
        {
            f"{prefix}-TOTAL_FORMS": "1",
            f"{prefix}-0-source": str(source.pk),
            f"{prefix}-0-field_name": "name_en",
            f"{prefix}-0-excerpt": "A verbatim clause.",
            f"{prefix}-0-verification": "verified",
            f"{prefix}-0-checked_on": "2026-11-23",
        }
    )
    assert client.post(_company_url(company), data).status_code == 302
    citation = Citation.objects.for_object(company).get()
    assert citation.version == 1
    assert Change.objects.for_object(citation).get().actor_label == "curator"


def test_history_view_lists_audit_rows_newest_first_with_field_diffs():
    client = _logged_in("curator")
    company = factories.CompanyFactory(name_en="Before")
    curator = get_user_model().objects.get(username="curator")
    curated_update(company, actor=curator, expected_version=1, data={"name_en": "After"})

    response = client.get(_company_url(company, "history"))

    assert response.status_code == 200
    entries = response.context["entries"]
    assert [entry["change"].action for entry in entries] == ["updated", "created"]
    assert entries[0]["actor"] == "curator"
    assert entries[0]["diff"] == [("name_en", "Before", "After")]
    html = response.content.decode()
    assert re.search(r"<del>Before</del>.*<ins>After</ins>", html, re.S)


def test_stale_delete_is_refused_by_the_service():
    company = factories.CompanyFactory()
    curator = factories.StaffUserFactory(username="curator")
    curated_update(company, actor=curator, expected_version=1, data={"name_en": "v2"})
    from portal.services import curated_delete

    with pytest.raises(ConcurrentEditError):
        curated_delete(company, actor=curator, expected_version=1)
    assert Company.objects.filter(pk=company.pk).exists()


def test_region_cannot_be_moved_under_its_descendant_in_admin():
    client = _logged_in("curator")
    china = factories.RegionFactory(slug="china", kind="country")
    shanghai = factories.RegionFactory(slug="shanghai", kind="municipality", parent=china)
    url = reverse("admin:portal_region_change", args=[china.pk])
    data = _change_form_data(client.get(url))

    response = client.post(url, {**data, "parent": str(shanghai.pk)})

    assert response.status_code == 200
    assert "cannot be placed under itself" in response.content.decode()
    china.refresh_from_db()
    assert china.parent_id is None


def test_api_token_admin_revokes_and_never_shows_the_hash():
    client = _logged_in("curator")
    investor = factories.UserFactory(username="investor")
    token, raw = api_token_issue(user=investor, name="Research")

    listing = client.get(reverse("admin:portal_apitoken_changelist")).content.decode()
    detail = client.get(reverse("admin:portal_apitoken_change", args=[token.pk])).content.decode()
    for page in (listing, detail):
        assert token.key_hash not in page
        assert raw not in page
    response = client.post(
        reverse("admin:portal_apitoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not ApiToken.objects.get(pk=token.pk).is_active()


def test_change_log_is_read_only_in_admin():
    client = _logged_in("curator")
    factories.RegionFactory()
    change = Change.objects.first()
    url = reverse("admin:portal_change_change", args=[change.pk])
    assert client.get(reverse("admin:portal_change_changelist")).status_code == 200
    assert client.post(url, {"table_name": "x"}).status_code == 403
    assert client.get(reverse("admin:portal_change_add")).status_code == 403
    assert Change.objects.get(pk=change.pk).table_name == "portal_region"
    assert Region.objects.count() == 1


def _empty_inlines(client: Client, url_name: str) -> dict[str, str]:
    response = client.get(reverse(f"admin:{url_name}"))
    data = {}
    for formset in response.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[management[name].html_name] = str(management[name].value())
    return data
