"""The fast checks (msgspec, C) never accept what the field-by-field check rejects.

validate_payload accepts a payload at once when msgspec finds it fits
``_KnownFields``; only otherwise does ``check_fields`` run and name the
problem.  So every constraint of ``_KnownFields`` must be at least as strict
as its check: these tests try each known field with values of every JSON
type and at the size limits, and compare the two verdicts.

parse_report has a path of its own for the addon's heartbeat
(``_AddonHeartbeat``): a body it takes must give exactly the report the
general path gives, and a body the general path rejects it must leave to
the general path (or reject with the same error).
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap

import pytest
from receiver_support import REPO_ROOT, enriched_payload, registration_payload

from receiver import validation
from receiver.errors import ClientError
from receiver.records import report_from_fields
from receiver.validation import (
    MAX_LIST_ITEMS,
    MAX_STRING_LENGTH,
    _addon_heartbeat_report,
    _only_known_valid_fields,
    check_fields,
    decode_json_object,
    parse_report,
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


def _general_report(body: bytes):
    """What the general path makes of a body: a report, or the ClientError."""
    try:
        return report_from_fields(validate_payload(decode_json_object(body)), body)
    except ClientError as exc:
        return exc


def _addon_path_report(body: bytes):
    try:
        return _addon_heartbeat_report(body)
    except ClientError as exc:
        return exc


def _same(fast, general) -> bool:
    if isinstance(fast, ClientError) or isinstance(general, ClientError):
        return (isinstance(fast, ClientError) and isinstance(general, ClientError)
                and fast.to_json() == general.to_json())
    return fast == general


def _compact(payload) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def _heartbeat_bodies():
    """The addon's heartbeat with each field varied, dropped, or joined by an unknown one."""
    yield _compact(enriched_payload("s1"))
    for field in ["server_id", *_KNOWN]:
        for value in _SCALARS + _CONTAINERS:
            yield _compact({**enriched_payload("s1"), field: value})
        payload = enriched_payload("s1")
        payload.pop(field, None)
        yield _compact(payload)
    yield _compact(enriched_payload("s1", extra=1))
    yield _compact(enriched_payload("s1", ip_addresses={"primary": "a", "all": [], "v6": []}))
    for server_id in ("", " ", "a\tb", "x" * 255, "x" * 256, "é", "a\u2028b"):
        yield _compact(enriched_payload(server_id))
    body = _compact(enriched_payload("s1"))
    # Raw text the dict never shows: numbers JSON has no float for, lone
    # surrogates, invalid UTF-8, duplicate keys, whitespace, a byte order mark.
    for literal in (b"1e400", b"-1e400", b"NaN", b"Infinity", b"1E308", b"0", b"-0.0", b"2"):
        yield body.replace(b'"uptime_seconds":120.5', b'"uptime_seconds":' + literal)
    yield body.replace(b'"odoo_stage":"staging"', b'"odoo_stage":"\\ud800"')
    yield body.replace(b'"odoo_stage":"staging"', b'"odoo_stage":"\\ud83d\\ude00"')
    yield body.replace(b'"odoo_stage":"staging"', b'"odoo_stage":"\xff"')
    yield body.replace(b'"odoo_stage":"staging"', b'"odoo_stage":"a","odoo_stage":"b"')
    yield body.replace(b'"odoo_stage":"staging"', b'"odoo_stage":1,"odoo_stage":"b"')
    yield body.replace(b'"odoo_stage":"staging"', b'"odoo_stage":"b","odoo_stage":1')
    yield body.replace(b",", b", ")
    yield body.replace(b",", b",\n")
    yield b" " + body
    yield body + b"\n"
    yield b"\xef\xbb\xbf" + body
    yield body[:-1]
    yield b"[" + body + b"]"
    # At the size limits, in bodies longer than the short-body decoder takes.
    for size in (MAX_STRING_LENGTH, MAX_STRING_LENGTH + 1):
        yield _compact(enriched_payload("s1", hostname="h" * size))
        yield _compact(enriched_payload("s1", capabilities=["c" * size]))
        yield _compact(enriched_payload("s1", ip_addresses={"primary": "p" * size, "all": []}))
    for count in (MAX_LIST_ITEMS, MAX_LIST_ITEMS + 1):
        yield _compact(enriched_payload("s1", capabilities=["c"] * count))
        yield _compact(enriched_payload("s1", ip_addresses={"primary": None, "all": [""] * count}))
    # Around the short-body decoder's bound: a hostname filling the body up.
    short = len(_compact(enriched_payload("s1", hostname="")))
    for length in range(MAX_STRING_LENGTH - 3, MAX_STRING_LENGTH + 4):
        for filler in ("h", "\u00e9", "\\"):
            yield _compact(enriched_payload("s1", hostname=filler * (length - short)))


def test_the_addon_heartbeat_path_agrees_with_the_general_path():
    taken, disagreements = 0, []
    for body in _heartbeat_bodies():
        fast = _addon_path_report(body)
        if fast is None:
            continue
        taken += 1
        general = _general_report(body)
        if not _same(fast, general):
            disagreements.append((body[:80], fast, general))
    assert disagreements == []
    assert taken > 50  # the variations of valid values did take it


def test_parse_report_gives_the_general_verdict_whichever_path_decides():
    for body in _heartbeat_bodies():
        try:
            report = parse_report(body)
        except ClientError as exc:
            report = exc
        general = _general_report(body)
        if isinstance(general, ClientError):
            assert _same(report, general), body[:80]
        else:
            # Same fields, same summary; the JSON is the body's own text or,
            # when it cannot be stored as it came, the same object re-encoded.
            assert (report.server_id, report.keys, report.hostname, report.database,
                    report.odoo_stage, report.odoo_version, report.version) == (
                general.server_id, general.keys, general.hostname, general.database,
                general.odoo_stage, general.odoo_version, general.version), body[:80]
            assert json.loads(bytes(report.json)) == json.loads(bytes(general.json))
            assert b"\n" not in bytes(report.json)


def test_long_heartbeats_take_the_addon_path_with_every_check():
    for size, valid in ((MAX_STRING_LENGTH, True), (MAX_STRING_LENGTH + 1, False)):
        body = _compact(enriched_payload("s1", hostname="h" * size))
        assert len(body) > validation._SHORT_BODY_BYTES
        assert (_addon_heartbeat_report(body) is not None) is valid


def test_what_the_addon_sends_every_minute_takes_its_own_path():
    body = _compact(enriched_payload("s1"))
    report = _addon_heartbeat_report(body)
    assert report is not None and bytes(report.json) == body
    # Anything else is for the general path to decide.
    for other in (registration_payload("s1"),
                  {"server_id": "s1", "status": "healthy", "timestamp": "2025-06-01T12:00:00Z"},
                  enriched_payload("s1", extra=1)):
        assert _addon_heartbeat_report(_compact(other)) is None


def test_validation_types_are_built_at_import_not_by_request_threads():
    """msgspec builds a Struct type's info on first use, in Python; request
    threads racing that first use crashed the receiver (segfault).  In a
    fresh interpreter, the first validation after import must run none of
    msgspec's Python type introspection."""
    script = textwrap.dedent("""
        import json, os, sys
        import msgspec
        from receiver.validation import parse_report, validate_payload
        msgspec_dir = os.path.dirname(msgspec.__file__)
        calls = []
        def profile(frame, event, arg):
            if event == "call" and frame.f_code.co_filename.startswith(msgspec_dir):
                calls.append(frame.f_code.co_name)
        sys.setprofile(profile)
        validate_payload(json.loads(sys.argv[1]))
        parse_report(sys.argv[1].encode())  # the addon heartbeat's own path
        sys.setprofile(None)
        print(json.dumps(calls))
    """)
    payload = json.dumps(enriched_payload("s1"), separators=(",", ":"))
    result = subprocess.run([sys.executable, "-c", script, payload], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []
