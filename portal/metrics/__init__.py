"""Derived metrics: registry of metric families, set-based recompute, dirty tracking, tasks.

The core runs the registry; each app contributes its SQL from `<app>/metrics.py` (discovered
by module name, so the core never imports the apps and the import direction holds).
"""
