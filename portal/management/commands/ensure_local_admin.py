"""Create or repair the local superuser that `make run` prints the credentials of."""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

PASSWORD_ENV = "PORTAL_ADMIN_PASSWORD"  # noqa: S105 - the variable name, not a password


class Command(BaseCommand):
    help = (
        "Ensure a local superuser exists and can log in with the known password: "
        f"${PASSWORD_ENV} if set, else the one stored in --password-file (generated once)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument(
            "--password-file",
            default=str(Path(settings.BASE_DIR) / ".local" / "admin-password"),
            help="Where a generated password is kept (mode 0600). Default: .local/admin-password",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Allow production settings (a known password on a public site is risky).",
        )

    def handle(self, *args, **options):
        module = os.environ.get("DJANGO_SETTINGS_MODULE", "")
        if module.endswith(".production") and not options["allow_production"]:
            raise CommandError("Refusing to create a local admin with production settings.")

        password = os.environ.get(PASSWORD_ENV) or self._stored_password(
            Path(options["password_file"])
        )
        username = options["username"]
        user_model = get_user_model()
        user, created = user_model._default_manager.get_or_create(
            **{user_model.USERNAME_FIELD: username}
        )
        changed = created or not (user.is_active and user.is_staff and user.is_superuser)
        user.is_active = user.is_staff = user.is_superuser = True
        if not user.check_password(password):
            user.set_password(password)
            changed = True
        if changed:
            user.save()
        state = "created" if created else ("updated" if changed else "unchanged")
        self.stdout.write(f"Local admin '{username}' {state}.")

    def _stored_password(self, path: Path) -> str:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(15)
        # Create with 0600 from the start so the secret is never world-readable.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(password + "\n")
        return password
