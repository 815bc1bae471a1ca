"""ensure_local_admin: the account `make run` prints can always log in."""

import stat

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_generates_a_password_once_and_keeps_it(tmp_path, monkeypatch):
    monkeypatch.delenv("PORTAL_ADMIN_PASSWORD", raising=False)
    password_file = tmp_path / "local" / "admin-password"

    call_command("ensure_local_admin", password_file=str(password_file))
    first = password_file.read_text().strip()
    call_command("ensure_local_admin", password_file=str(password_file))

    assert len(first) >= 16
    assert password_file.read_text().strip() == first
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.is_active
    assert admin.check_password(first)


def test_password_from_environment_wins_and_repairs_the_account(tmp_path, monkeypatch):
    user = get_user_model().objects.create_user("admin", password="something-else")
    user.is_active = False
    user.save()
    monkeypatch.setenv("PORTAL_ADMIN_PASSWORD", "from-the-environment-123")

    call_command("ensure_local_admin", password_file=str(tmp_path / "unused"))

    user.refresh_from_db()
    assert user.is_active and user.is_superuser
    assert user.check_password("from-the-environment-123")
    assert not (tmp_path / "unused").exists()


def test_refuses_production_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "portal.settings.production")

    with pytest.raises(CommandError):
        call_command("ensure_local_admin", password_file=str(tmp_path / "pw"))
