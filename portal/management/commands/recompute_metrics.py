"""`manage.py recompute_metrics [--full]`: recompute derived metrics now.

Without --full it reconciles: recomputes only the subjects whose audited changes (within
--lookback-hours) are newer than their metrics. With --full every family for every subject:
running totals are rebuilt from every base row and the figures whose totals differ are
rewritten; --rederive also rewrites every figure read from unchanged totals (after a change to
the metric SQL).
"""

import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from portal.metrics import registry, services


class Command(BaseCommand):
    help = "Recompute derived metrics (reconcile stale subjects, or everything with --full)."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="Recompute every family.")
        parser.add_argument(
            "--rederive",
            action="store_true",
            help="With --full: derive every figure anew, not only those whose totals changed.",
        )
        parser.add_argument("--lookback-hours", type=float, default=24.0)

    def handle(self, *args, full: bool, rederive: bool, lookback_hours: float, **options):
        total = len(registry.families()) if full else None
        with tqdm(total=total, desc="metric families", unit="family") as bar:

            def progress(result):
                bar.set_postfix_str(f"{result.family}: {result.computed} rows")
                bar.update(1)

            if full:
                results = services.recompute_all(progress=progress, rederive=rederive)
                written = sum(result.written for result in results)
                message = f"Recomputed {len(results)} families, {written} metric rows."
            else:
                since = timezone.now() - datetime.timedelta(hours=lookback_hours)
                subjects = services.recompute_stale(since, progress=progress)
                message = f"Reconciled {len(subjects)} stale subject(s)."
        self.stdout.write(message)
