"""`manage.py load_curated_data [--path fixtures/curated]`: load the curated YAML dataset."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from policies.loaders import CuratedDataError, load_curated_data


class Command(BaseCommand):
    help = (
        "Load fixtures/curated/*.yaml idempotently by natural key in one transaction, "
        "as the curation-bot user. A second run writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            default=str(settings.BASE_DIR / "fixtures" / "curated"),
            help="Directory holding the curated YAML files.",
        )

    def handle(self, *args, path, **options):
        try:
            summary = load_curated_data(path)
        except CuratedDataError as error:
            raise CommandError(f"Nothing was loaded. {error}") from error
        for line in summary.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(f"Loaded {', '.join(summary.files)}: {summary.writes} write(s).")
        )
