"""`python manage.py restore FILE --target-db NAME`: restore into a fresh database and verify it."""

import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.backups import compare_checksums, restore_database, table_checksums


class Command(BaseCommand):
    help = "Restore a pg_dump file into a new database; --verify compares per-table checksums."

    def add_arguments(self, parser):
        parser.add_argument("dump", type=Path)
        parser.add_argument("--target-db", required=True, help="Name of the new database")
        parser.add_argument(
            "--verify",
            action="store_true",
            help="Compare per-table checksums with the current database (right after a backup)",
        )

    def handle(self, *args, **options):
        if not options["dump"].exists():
            raise CommandError(f"{options['dump']} does not exist")
        try:
            restore_database(dump=options["dump"], target_name=options["target_db"])
        except (subprocess.CalledProcessError, OSError, ValueError) as error:
            stderr = getattr(error, "stderr", b"") or b""
            raise CommandError(
                f"restore failed: {error} {stderr.decode(errors='replace')}"
            ) from error
        self.stdout.write(f"Restored {options['dump']} into {options['target_db']}")
        if options["verify"]:
            source = table_checksums(database_name=settings.DATABASES["default"]["NAME"])
            restored = table_checksums(database_name=options["target_db"])
            mismatches = compare_checksums(source, restored)
            self.stdout.write(f"tables: {len(source)}, mismatches: {len(mismatches)}")
            if mismatches:
                raise CommandError(f"checksum mismatch in: {', '.join(mismatches)}")
