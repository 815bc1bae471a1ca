"""Login throttling, session rotation at login, and security event logging."""

import logging

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.test import Client, override_settings
from django.urls import path, reverse

from tests import factories

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def clean_throttle_counters():
    cache.clear()
    yield
    cache.clear()


def admin_login(client: Client, username: str, password: str):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
    )


@pytest.mark.django_db
def test_login_is_refused_after_repeated_failures_even_with_the_right_password(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    factories.StaffUserFactory(username="curator")
    client = Client()
    for _ in range(3):
        assert admin_login(client, "curator", "wrong-password").status_code == 200

    response = admin_login(client, "curator", PASSWORD)

    assert response.status_code == 200  # the login form again, not a redirect
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_failures_below_the_limit_do_not_block_and_success_resets_the_count(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    factories.StaffUserFactory(username="curator")
    client = Client()
    for _ in range(2):
        admin_login(client, "curator", "wrong-password")
    assert admin_login(client, "curator", PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        admin_login(client, "curator", "wrong-password")
    assert admin_login(client, "curator", PASSWORD).status_code == 302


@pytest.mark.django_db
def test_one_address_guessing_many_usernames_is_throttled(settings):
    settings.LOGIN_ADDRESS_FAILURE_LIMIT = 4
    factories.StaffUserFactory(username="curator")
    client = Client()
    for index in range(4):
        admin_login(client, f"guess{index}", "wrong-password")
    assert admin_login(client, "curator", PASSWORD).status_code == 200
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_session_key_rotates_at_login():
    factories.StaffUserFactory(username="curator")
    client = Client()
    client.get(reverse("admin:login"))
    client.session.save()
    before = client.session.session_key
    admin_login(client, "curator", PASSWORD)
    assert client.session.session_key != before


@pytest.mark.django_db
def test_security_events_are_logged_without_the_password(caplog):
    factories.StaffUserFactory(username="curator")
    client = Client()
    with caplog.at_level(logging.INFO, logger="portal.security"):
        admin_login(client, "curator", "s3cret-guess-value")
        admin_login(client, "curator", PASSWORD)
    text = caplog.text
    assert "login failed user=curator" in text
    assert "login succeeded user=curator" in text
    assert "s3cret-guess-value" not in text
    assert PASSWORD not in text


def refuse(request):
    raise PermissionDenied


urlpatterns = [path("refused/", refuse)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_permission_denials_are_logged_with_user_and_path(caplog):
    client = Client()
    client.force_login(factories.UserFactory(username="reader"))
    with caplog.at_level(logging.WARNING, logger="portal.security"):
        response = client.get("/refused/")
    assert response.status_code == 403
    assert "permission denied status=403 method=GET path=/refused/ user=reader" in caplog.text
