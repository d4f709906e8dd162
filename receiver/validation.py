"""Decoding and type-checking of the JSON bodies the addon sends.

The receiver validates before it stores: a payload either passes as a whole
or is rejected as a whole with a 4xx naming the first offending field, so a
client mistake never leaves a half-merged record behind.

Known fields are checked for type (and a length cap, so that one chatty
client cannot bloat every listing); unknown fields are kept as sent, since
newer addons may report more than this receiver knows about.

``parse_report`` turns a body into the ``Report`` the storage merges.  The
heartbeat the addon sends every minute from every server is most of the
traffic, so it has a path of its own: one msgspec call (C) decodes and
checks it against ``_AddonHeartbeat`` and the body itself becomes the
stored JSON, with no dict built or encoded again.  Any other body (a
registration, a slim or older heartbeat, unknown fields, a mistake) takes
the general path, which decides alone what is valid and names the problem;
the addon's path accepts only what the general path accepts, with the same
result (tests hold the two to it).
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any

import msgspec

from receiver.errors import ClientError
from receiver.records import Report, key_set, report_from_fields

MAX_BODY_BYTES = 64 * 1024
MAX_SERVER_ID_LENGTH = 255
MAX_STRING_LENGTH = 1024
MAX_LIST_ITEMS = 1024

_SURROGATE_ESCAPE = re.compile(rb"\\[uU][dD][89a-fA-F]")
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f]")

_STRING_FIELDS = frozenset(
    {
        "hostname",
        "transport",
        "version",
        "odoo_version",
        "database",
        "odoo_stage",
        "started_at",
        "status",
        "timestamp",
        "mcp_url",
        "database_uuid",
    }
)


_decode_json = msgspec.json.decode


def decode_json_object(body: bytes) -> dict[str, Any]:
    """Parse a request body that must be one JSON object (UTF-8, RFC 8259).

    msgspec's decoder (C) rejects what the stdlib's accepts beyond RFC 8259:
    NaN and Infinity, numbers that overflow a float, lone surrogate escapes
    (a str that could not be stored as UTF-8).
    """
    if not body:
        raise ClientError(400, "invalid_json", "request body is empty; expected a JSON object")
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]  # a UTF-8 byte order mark; RFC 8259 lets parsers ignore it
    try:
        payload = _decode_json(body)
    except UnicodeDecodeError:
        raise ClientError(400, "invalid_json", "request body is not UTF-8 encoded") from None
    except RecursionError:
        raise ClientError(400, "invalid_json", "request body is nested too deeply") from None
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        if _SURROGATE_ESCAPE.search(body):
            # msgspec reports these as truncated input, which misleads.
            raise ClientError(
                400, "invalid_json", "request body contains an unpaired surrogate escape"
            ) from None
        raise ClientError(400, "invalid_json", f"request body is not valid JSON: {exc}") from None
    if type(payload) is not dict:
        raise ClientError(
            400,
            "invalid_body",
            f"request body must be a JSON object, not {_json_type(payload)}",
        )
    return payload


def validate_payload(payload: dict[str, Any]) -> dict[str, Any]:
    """Check ``server_id`` and every known field present; return the payload.

    Both /register and /heartbeat use this: only ``server_id`` is required,
    so slim heartbeats from old addons stay valid.  This runs for every
    heartbeat: what an addon sends passes msgspec's check of ``_KnownFields``
    (C, a fifth of the cost of ``check_fields``); anything else (an unknown
    field, a mistake) goes through ``check_fields``, which decides and names
    the offending field.
    """
    _check_server_id(payload.get("server_id", _MISSING))
    if not _only_known_valid_fields(payload):
        check_fields(payload)
    return payload


def _only_known_valid_fields(payload: dict[str, Any]) -> bool:
    try:
        _convert(payload, _KnownFields)
    except msgspec.ValidationError:
        return False
    return True


def check_fields(payload: dict[str, Any]) -> None:
    """Raise a ClientError naming the first known field of the wrong type or size.

    ``type(...) is``: JSON decoding only produces exact types.
    """
    for field, value in payload.items():
        if field in _STRING_FIELDS:
            if type(value) is not str or len(value) > MAX_STRING_LENGTH:
                _check_string(field, value)
        else:
            check = _CHECKS.get(field)
            if check is not None:
                check(field, value)


_MISSING = object()

_String = Annotated[str, msgspec.Meta(max_length=MAX_STRING_LENGTH)]
_StringList = Annotated[list[_String], msgspec.Meta(max_length=MAX_LIST_ITEMS)]
_Unset = msgspec.UnsetType
_UNSET = msgspec.UNSET


def _addresses_type(name: str, string: Any, string_list: Any) -> type[msgspec.Struct]:
    """``ip_addresses``: an optional ``primary`` (a string or null) and ``all``."""
    return msgspec.defstruct(
        name,
        [("primary", string | None | _Unset, _UNSET), ("all", string_list | _Unset, _UNSET)],
        forbid_unknown_fields=True, gc=False)


_KnownAddresses = _addresses_type("_KnownAddresses", _String, _StringList)


class _KnownFields(msgspec.Struct, forbid_unknown_fields=True):
    """What an addon sends, checked in C: every constraint here is the same
    as, or stricter than, its check in ``check_fields`` (tests hold them to
    it), so a payload that fits is valid; one that does not is decided by
    ``check_fields``."""

    server_id: Annotated[str, msgspec.Meta(max_length=MAX_SERVER_ID_LENGTH)]
    hostname: _String | _Unset = _UNSET
    transport: _String | _Unset = _UNSET
    version: _String | _Unset = _UNSET
    odoo_version: _String | _Unset = _UNSET
    database: _String | _Unset = _UNSET
    odoo_stage: _String | _Unset = _UNSET
    started_at: _String | _Unset = _UNSET
    status: _String | _Unset = _UNSET
    timestamp: _String | _Unset = _UNSET
    mcp_url: _String | _Unset = _UNSET
    database_uuid: _String | _Unset = _UNSET
    capabilities: _StringList | _Unset = _UNSET
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] | _Unset = _UNSET
    ip_addresses: _KnownAddresses | _Unset = _UNSET
    uptime_seconds: Annotated[float, msgspec.Meta(ge=0)] | _Unset = _UNSET


_ServerId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SERVER_ID_LENGTH)]
_Port = Annotated[int, msgspec.Meta(ge=1, le=65535)]
_Uptime = Annotated[float, msgspec.Meta(ge=0)]


def _addon_heartbeat_type(name: str, string: Any, string_list: Any,
                          addresses: type[msgspec.Struct]) -> type[msgspec.Struct]:
    """Exactly the fields of the addon's heartbeat (its ``_build_server_payload``
    plus ``status``, ``timestamp`` and ``uptime_seconds``), all required, each
    constrained as in ``_KnownFields`` (strings as ``string``, lists of
    strings as ``string_list``), nothing else allowed."""
    return msgspec.defstruct(
        name,
        [("server_id", _ServerId), ("hostname", string), ("ip_addresses", addresses),
         ("port", _Port), ("transport", string), ("version", string), ("odoo_version", string),
         ("database", string), ("capabilities", string_list), ("odoo_stage", string),
         ("mcp_url", string), ("database_uuid", string),
         ("status", string), ("timestamp", string), ("uptime_seconds", _Uptime)],
        forbid_unknown_fields=True, gc=False)


_AddonHeartbeat = _addon_heartbeat_type("_AddonHeartbeat", _String, _StringList, _KnownAddresses)
# A body of at most this many bytes holds no string longer than
# MAX_STRING_LENGTH characters (a character takes at least a byte) and no list
# of more than MAX_LIST_ITEMS items (an item takes at least two): for it, the
# same fields without those two checks, which are a ninth of the decode
# (valgrind).  Most heartbeats are this short.
_SHORT_BODY_BYTES = min(MAX_STRING_LENGTH, 2 * MAX_LIST_ITEMS)
_ShortAddonHeartbeat = _addon_heartbeat_type(
    "_ShortAddonHeartbeat", str, list[str], _addresses_type("_ShortAddresses", str, list[str]))
_decode_addon_heartbeat = msgspec.json.Decoder(_AddonHeartbeat).decode
_decode_short_addon_heartbeat = msgspec.json.Decoder(_ShortAddonHeartbeat).decode
_ADDON_HEARTBEAT_KEYS = key_set(_AddonHeartbeat.__struct_fields__)


def parse_report(body: bytes) -> Report:
    """The validated report of a request body, or a ClientError naming the problem."""
    report = _addon_heartbeat_report(body)
    if report is None:
        fields = validate_payload(decode_json_object(body))
        report = report_from_fields(fields, body if _storable_as_sent(body) else None)
    return report


def _addon_heartbeat_report(body: bytes) -> Report | None:
    """The report of an addon heartbeat; None for any other body (valid or not).

    Every heartbeat of every server comes this way, so it is written for few
    Python steps: a served request pays for each one several times what it
    costs in a loop (receiver/README.md, "Speed").  What it does not decide (an
    unusual server_id, a body not storable as sent) it leaves to the
    general path, which names the problem.
    """
    try:
        if len(body) <= _SHORT_BODY_BYTES:
            heartbeat = _decode_short_addon_heartbeat(body)
        else:
            heartbeat = _decode_addon_heartbeat(body)
    except ValueError:  # msgspec's DecodeError and ValidationError, bad UTF-8
        return None
    server_id = heartbeat.server_id
    # _storable_as_sent and the usual server_id of _check_server_id, inline.
    if (body[0] == _OPEN_BRACE and body[-1] == _CLOSE_BRACE and _NEWLINE not in body
            and server_id.isprintable() and not server_id.isspace()):
        return Report(server_id, msgspec.Raw(body), _ADDON_HEARTBEAT_KEYS, heartbeat.hostname,
                      heartbeat.database, heartbeat.odoo_stage, heartbeat.odoo_version,
                      heartbeat.version)
    return None


_OPEN_BRACE, _CLOSE_BRACE, _NEWLINE = b"{}\n"


def _storable_as_sent(body: bytes) -> bool:
    """Whether a body that decoded to an object can be stored as it came.

    Stored JSON must start with ``{`` and end with ``}`` (``info_json``
    joins two objects by their braces) and hold no newline (the ack log is
    one entry per line); spaces elsewhere, as ``requests`` writes them, are
    fine.  Any other body is stored re-encoded.
    """
    # Byte values, not one-byte slices: ``b"\n" in body`` costs several
    # times ``10 in body`` (measured), and this runs on every write.
    return body[0] == _OPEN_BRACE and body[-1] == _CLOSE_BRACE and _NEWLINE not in body


_convert = msgspec.convert

# msgspec builds a Struct type's info on its first use, partly in Python (it
# evaluates the annotations, so the GIL changes hands meanwhile), and threads
# racing that first use crash the process: waitress's request threads did,
# with a segfault, a few seconds into a load test (msgspec 0.22, CPython
# 3.11).  Building it here, at import, in one thread, leaves nothing to race;
# a typed Decoder builds it for ``_convert`` too (``_AddonHeartbeat`` has one).
msgspec.json.Decoder(_KnownFields)


def _check_server_id(value: Any) -> None:
    if (type(value) is str and 0 < len(value) <= MAX_SERVER_ID_LENGTH and value.isprintable()
            and not value.isspace()):
        return  # the usual id; isprintable() is False for every control character
    if value is _MISSING:
        raise ClientError(400, "missing_field", "server_id is required", "server_id")
    if type(value) is not str:
        raise ClientError(
            400, "invalid_field", f"server_id must be a string, not {_json_type(value)}", "server_id"
        )
    if not value.strip():
        raise ClientError(400, "invalid_field", "server_id must not be empty", "server_id")
    if len(value) > MAX_SERVER_ID_LENGTH:
        raise ClientError(
            400,
            "invalid_field",
            f"server_id is longer than {MAX_SERVER_ID_LENGTH} characters",
            "server_id",
        )
    if _CONTROL_CHARACTER.search(value):
        raise ClientError(
            400, "invalid_field", "server_id must not contain control characters", "server_id"
        )


def _check_string(field: str, value: Any) -> None:
    if type(value) is not str:
        raise ClientError(
            400, "invalid_field", f"{field} must be a string, not {_json_type(value)}", field
        )
    if len(value) > MAX_STRING_LENGTH:
        raise ClientError(
            400, "invalid_field", f"{field} is longer than {MAX_STRING_LENGTH} characters", field
        )


def _check_string_list(field: str, value: Any) -> None:
    if type(value) is not list:
        raise ClientError(
            400,
            "invalid_field",
            f"{field} must be a list of strings, not {_json_type(value)}",
            field,
        )
    if len(value) > MAX_LIST_ITEMS:
        raise ClientError(
            400, "invalid_field", f"{field} has more than {MAX_LIST_ITEMS} items", field
        )
    for item in value:
        if type(item) is not str or len(item) > MAX_STRING_LENGTH:
            raise ClientError(
                400,
                "invalid_field",
                f"{field} must be a list of strings of at most {MAX_STRING_LENGTH} characters",
                field,
            )


def _check_port(field: str, value: Any) -> None:
    if type(value) is not int:  # also rejects JSON true/false
        raise ClientError(
            400, "invalid_field", f"port must be an integer, not {_json_type(value)}", field
        )
    if not 0 < value < 65536:
        raise ClientError(400, "invalid_field", "port must be between 1 and 65535", field)


def _check_ip_addresses(field: str, value: Any) -> None:
    if type(value) is not dict:
        raise ClientError(
            400,
            "invalid_field",
            f"ip_addresses must be an object, not {_json_type(value)}",
            field,
        )
    primary = value.get("primary")
    # The addon reports null when it could not determine an address.
    if primary is not None and (type(primary) is not str or len(primary) > MAX_STRING_LENGTH):
        raise ClientError(
            400, "invalid_field", "ip_addresses.primary must be a string or null", field
        )
    if "all" in value:
        try:
            _check_string_list("ip_addresses.all", value["all"])
        except ClientError as exc:
            exc.field = field
            raise


def _check_uptime(field: str, value: Any) -> None:
    if type(value) not in (int, float) or not math.isfinite(value) or value < 0:
        raise ClientError(
            400, "invalid_field", "uptime_seconds must be a non-negative number", field
        )


_CHECKS = {
    "capabilities": _check_string_list,
    "port": _check_port,
    "ip_addresses": _check_ip_addresses,
    "uptime_seconds": _check_uptime,
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
