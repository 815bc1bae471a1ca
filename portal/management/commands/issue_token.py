"""`manage.py issue_token USERNAME [--days N] [--name NAME]`: print a new API token once."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portal.services import api_token_issue


class Command(BaseCommand):
    help = "Issue an API token for a user; the token is printed once and never stored."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--days", type=int, default=None, help="Expire after N days.")
        parser.add_argument("--name", default="cli", help="A label for the token.")

    def handle(self, *args, username, days, name, **options):
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        token, raw = api_token_issue(user=user, name=name, days=days)
        expiry = token.expires_at.isoformat() if token.expires_at else "never"
        self.stderr.write(f"Token {token.name!r} for {username} (expires {expiry}); shown once:")
        self.stdout.write(raw)
