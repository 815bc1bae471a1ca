#!/usr/bin/env python3
"""Run several manage.py commands in one Django process (one start-up instead of one per command).

Usage: manage_steps.py migrate --noinput -- ensure_local_admin -- load_curated_data
Commands run in order; the first failure stops the rest with a non-zero exit code.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")
    import django
    from django.core.management import call_command

    django.setup()
    steps, current = [], []
    for arg in argv:
        if arg == "--":
            steps.append(current)
            current = []
        else:
            current.append(arg)
    steps.append(current)
    for name, *args in (step for step in steps if step):
        started = time.monotonic()
        call_command(name, *args)
        print(f"[run] manage.py {name} done in {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
