# Copyright 2026 The xlm-swcm authors. Licensed under the Apache License, Version 2.0.
"""Records every message a test run shows a user, to compare two versions of the code message by message.

As a pytest plugin it logs, per test, the text of each exception a `pytest.raises` block catches and each line a
command (in-process or a subprocess) writes to stderr starting with its name (`xlm-swcm-...`):

    XLM_SWCM_MESSAGES=before.jsonl PYTHONPATH=tools python -m pytest -p record_messages modeling_tests -q
    ... change the code ...
    XLM_SWCM_MESSAGES=after.jsonl PYTHONPATH=tools python -m pytest -p record_messages modeling_tests -q
    python tools/record_messages.py before.jsonl after.jsonl

The last command prints each test whose messages differ (temporary paths normalised) and exits 1 if any do.
"""

import builtins
import json
import os
import re
import subprocess
import sys
from collections import defaultdict

import pytest

_TMP = re.compile(r"/tmp/pytest-of-[^/]+/pytest-\d+/|/tmp/tmp\w+/")
_messages: list[dict] = []
_current = {"test": None}


def _record(kind: str, text: str) -> None:
    if _current["test"] is not None:
        _messages.append({"test": _current["test"], "kind": kind, "message": _TMP.sub("<tmp>/", text)})


def _command_lines(text) -> None:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    for line in (text or "").splitlines():
        if line.startswith("xlm-swcm"):
            _record("stderr", line)


class _Raises:
    """Wraps what `pytest.raises` returns, to log the caught exception's text."""

    def __init__(self, inner):
        self.inner = inner

    def __enter__(self):
        self.info = self.inner.__enter__()
        return self.info

    def __exit__(self, *exc):
        suppressed = self.inner.__exit__(*exc)
        if exc[1] is not None:
            _record("raises", str(exc[1]))
        return suppressed


def pytest_configure(config):
    raises, print_, communicate = pytest.raises, builtins.print, subprocess.Popen.communicate

    def logging_raises(*args, **kwargs):
        result = raises(*args, **kwargs)
        return _Raises(result) if len(args) < 2 and hasattr(result, "__enter__") else result

    def logging_print(*args, **kwargs):
        if kwargs.get("file") is sys.stderr:
            _command_lines(" ".join(map(str, args)))
        return print_(*args, **kwargs)

    def logging_communicate(self, *args, **kwargs):
        out, err = communicate(self, *args, **kwargs)
        _command_lines(err)
        return out, err

    pytest.raises, builtins.print, subprocess.Popen.communicate = (
        logging_raises,
        logging_print,
        logging_communicate,
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _current["test"] = item.nodeid
    try:
        return (yield)
    finally:
        _current["test"] = None


def pytest_sessionfinish(session):
    path = os.environ.get("XLM_SWCM_MESSAGES", "messages.jsonl")
    with open(path, "w", encoding="utf-8") as handle:
        for row in _messages:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def _load(path: str) -> dict[str, list[str]]:
    by_test = defaultdict(list)
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            by_test[row["test"]].append(f"{row['kind']}: {row['message']}")
    return by_test


def compare(before_path: str, after_path: str) -> int:
    """Prints the tests whose messages differ between two logs; 1 if any do."""
    before, after = _load(before_path), _load(after_path)
    changed = 0
    for test in sorted(set(before) | set(after)):
        if sorted(before.get(test, [])) != sorted(after.get(test, [])):
            changed += 1
            print(f"== {test}")
            for line in sorted(set(before.get(test, [])) - set(after.get(test, []))):
                print(f"  - {line}")
            for line in sorted(set(after.get(test, [])) - set(before.get(test, []))):
                print(f"  + {line}")
    same = len(set(before) & set(after)) - changed
    print(
        f"{changed} test(s) with different messages, {same} with the same; {len(before)} before, {len(after)} after"
    )
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(compare(*sys.argv[1:3]))
