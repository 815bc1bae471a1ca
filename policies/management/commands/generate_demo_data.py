"""Load synthetic benchmark data (see bench/demo_data.py); lives in `policies`, the top layer."""

import time

from django.core.management.base import BaseCommand, CommandError

from bench.demo_data import GENERATOR_VERSION, DemoDataRefused, Scale, generate


class Command(BaseCommand):
    help = (
        "Generate deterministic synthetic data (slugs prefixed demo-, cited to the Source "
        "'demo-synthetic-data'). Refuses a database with curated data."
    )

    # Loading rows needs only the models; URL or admin checks of pages under construction
    # elsewhere in the tree must not stop a benchmark database from being seeded.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("--companies", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--facilities-per-company", type=int, default=2)
        parser.add_argument("--projects-per-company", type=int, default=10)
        parser.add_argument(
            "--force-into-curated",
            action="store_true",
            help="Load even though the database holds curated (non-demo) sources.",
        )
        parser.add_argument(
            "--skip-audit",
            action="store_true",
            help="Disable the portal_audit trigger during the COPY (bench databases only): "
            "no portal_change rows are written for the synthetic rows.",
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, **options):
        for name in ("companies", "facilities_per_company", "projects_per_company"):
            if options[name] < 0:
                raise CommandError(f"--{name.replace('_', '-')} must not be negative")
        scale = Scale(
            companies=options["companies"],
            facilities_per_company=options["facilities_per_company"],
            projects_per_company=options["projects_per_company"],
            seed=options["seed"],
        )
        started = time.perf_counter()
        try:
            counts = generate(
                scale,
                force_into_curated=options["force_into_curated"],
                skip_audit=options["skip_audit"],
                progress=not options["no_progress"] and options["verbosity"] > 0,
                log=lambda message: self.stdout.write(message),
            )
        except DemoDataRefused as error:
            raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        for table, count in sorted(counts.items()):
            self.stdout.write(f"  {table:40} {count:>10,}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Synthetic demo data (generator v{GENERATOR_VERSION}, seed {scale.seed}): "
                f"{sum(counts.values()):,} rows in {elapsed:.1f} s"
            )
        )
