"""Schemathesis hooks for scripts/fuzz.py (loaded through SCHEMATHESIS_HOOKS).

Adds the check "no stack trace in a body" and counts every request and every 5xx, written to
FUZZ_SUMMARY_PATH as it goes (so the figures survive however the run ends).
"""

from __future__ import annotations

import json
import os
import re
import threading

import schemathesis

TRACE_MARKERS = re.compile(
    r"Traceback \(most recent call last\)|File \"/[^\"]+\.py\", line \d+|"
    r"django\.db\.utils\.|psycopg\.errors\.|<title>[^<]*Error at /",
)
_lock = threading.Lock()
_counts = {"requests": 0, "server_errors": 0, "operations": set()}


def _write() -> None:
    path = os.environ.get("FUZZ_SUMMARY_PATH")
    if not path:
        return
    data = {**_counts, "operations": len(_counts["operations"])}
    tmp = f"{path}.tmp"
    with open(tmp, "w") as out:
        json.dump(data, out)
    os.replace(tmp, path)


@schemathesis.hook
def after_call(context, case, response):
    with _lock:
        _counts["requests"] += 1
        _counts["operations"].add(f"{case.operation.method.upper()} {case.operation.path}")
        if response.status_code >= 500:
            _counts["server_errors"] += 1
        if _counts["requests"] % 50 == 0 or response.status_code >= 500:
            _write()


@schemathesis.check
def no_stack_trace_in_body(ctx, response, case):
    """An error body may say what was wrong, never how the server is built."""
    text = response.text if isinstance(response.text, str) else ""
    match = TRACE_MARKERS.search(text)
    if match:
        raise AssertionError(f"Response body shows server internals: {match.group(0)!r}")
    return None
