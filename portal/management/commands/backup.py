"""`python manage.py backup [--output FILE]`: pg_dump the database (custom format)."""

import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from portal.backups import backup_database


class Command(BaseCommand):
    help = "Back up the database with pg_dump (custom format)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help="Dump file (default: backups/<db>-<time>.dump)"
        )

    def handle(self, *args, **options):
        name = settings.DATABASES["default"]["NAME"]
        stamp = timezone.localtime().strftime("%Y%m%dT%H%M%S")
        output = options["output"] or Path("backups") / f"{name}-{stamp}.dump"
        try:
            backup_database(output=output)
        except (subprocess.CalledProcessError, OSError, ValueError) as error:
            stderr = getattr(error, "stderr", b"") or b""
            raise CommandError(
                f"backup failed: {error} {stderr.decode(errors='replace')}"
            ) from error
        self.stdout.write(self.style.SUCCESS(f"Backed up {name} to {output}"))
