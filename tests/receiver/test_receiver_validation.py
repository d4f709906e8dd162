"""The fast check of known fields (msgspec, C) never accepts what the field-by-field check rejects.

validate_payload accepts a payload at once when msgspec finds it fits
``_KnownFields``; only otherwise does ``check_fields`` run and name the
problem.  So every constraint of ``_KnownFields`` must be at least as strict
as its check: these tests try each known field with values of every JSON
type and at the size limits, and compare the two verdicts.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap

import pytest
from receiver_support import REPO_ROOT, enriched_payload, registration_payload

from receiver.errors import ClientError
from receiver.validation import (
    MAX_LIST_ITEMS,
    MAX_STRING_LENGTH,
    _only_known_valid_fields,
    check_fields,
    validate_payload,
)

_LONG = "x" * MAX_STRING_LENGTH
_TOO_LONG = "x" * (MAX_STRING_LENGTH + 1)
_SCALARS = [None, True, False, 0, -1, 1, 65535, 65536, 1.5, -0.5, 1e300, "", "a", _LONG, _TOO_LONG]
_CONTAINERS = [[], ["a"], [1], ["a", None], [_LONG], [_TOO_LONG], ["a"] * MAX_LIST_ITEMS,
               ["a"] * (MAX_LIST_ITEMS + 1), {}, {"primary": "a"}, {"primary": None},
               {"primary": 1}, {"all": ["a"]}, {"all": "a"}, {"all": [1]}, {"primary": _TOO_LONG},
               {"primary": "a", "all": ["a"] * (MAX_LIST_ITEMS + 1)}]
_KNOWN = ["hostname", "ip_addresses", "port", "transport", "version", "odoo_version", "database",
          "capabilities", "odoo_stage", "started_at", "status", "timestamp", "uptime_seconds"]


def _accepted_by_field_checks(payload: dict) -> bool:
    try:
        check_fields(payload)
    except ClientError:
        return False
    return True


@pytest.mark.parametrize("field", _KNOWN)
def test_fast_check_agrees_with_the_field_checks_for_every_known_field(field):
    disagreements = []
    for value in _SCALARS + _CONTAINERS:
        payload = enriched_payload("s1", **{field: value})
        fast, slow = _only_known_valid_fields(payload), _accepted_by_field_checks(payload)
        # Same verdict on every payload made only of known fields.
        if fast != slow:
            disagreements.append((value if len(repr(value)) < 60 else repr(value)[:60], fast, slow))
    assert disagreements == []


def test_fast_check_leaves_unknown_fields_to_the_field_checks():
    for payload in (enriched_payload("s1", extra_field=[1, {"x": 2}]),
                    enriched_payload("s1", ip_addresses={"primary": "a", "v6": ["::1"]})):
        assert not _only_known_valid_fields(payload)
        assert validate_payload(payload) is payload  # kept, as sent


def test_what_the_addon_sends_takes_the_fast_check():
    for payload in (enriched_payload("s1"), registration_payload("s1"),
                    {"server_id": "s1", "status": "healthy", "timestamp": "2025-06-01T12:00:00Z"}):
        assert _only_known_valid_fields(payload)


@pytest.mark.parametrize(
    ("fields", "values"),
    [(("port", "uptime_seconds"), (1, 0, 0.0, 8069, True, -1, "1")),
     (("capabilities", "hostname"), ([], ["a"], "a", None))],
)
def test_pairs_of_fields_agree_too(fields, values):
    for combination in itertools.product(values, repeat=len(fields)):
        payload = enriched_payload("s1", **dict(zip(fields, combination, strict=True)))
        assert _only_known_valid_fields(payload) == _accepted_by_field_checks(payload), combination


def test_validation_types_are_built_at_import_not_by_request_threads():
    """msgspec builds a Struct type's info on first use, in Python; request
    threads racing that first use crashed the receiver (segfault).  In a
    fresh interpreter, the first validation after import must run none of
    msgspec's Python type introspection."""
    script = textwrap.dedent("""
        import json, os, sys
        import msgspec
        from receiver.validation import validate_payload
        msgspec_dir = os.path.dirname(msgspec.__file__)
        calls = []
        def profile(frame, event, arg):
            if event == "call" and frame.f_code.co_filename.startswith(msgspec_dir):
                calls.append(frame.f_code.co_name)
        sys.setprofile(profile)
        validate_payload(json.loads(sys.argv[1]))
        sys.setprofile(None)
        print(json.dumps(calls))
    """)
    payload = json.dumps(enriched_payload("s1"))
    result = subprocess.run([sys.executable, "-c", script, payload], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
