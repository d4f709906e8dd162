"""The Bottle application: routes, bearer-token check, JSON error pages.

Every response is JSON, including Bottle's own 404/405/500 pages.  Request
bodies are size-checked from Content-Length before anything is read,
type-checked by content type, decoded and validated completely before
storage is touched.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from typing import Any

import bottle
import msgspec

from receiver import __version__
from receiver.clock import now_us, to_iso
from receiver.errors import ClientError, StorageError
from receiver.records import Report
from receiver.status import STATUSES, StatusRule
from receiver.storage import SORT_FIELDS, ServerQuery, Storage
from receiver.validation import MAX_BODY_BYTES, parse_report

log = logging.getLogger("receiver")

DEFAULT_PAGE_SIZE = 1000
MAX_PAGE_SIZE = 10000
MAX_QUERY_TEXT = 255

_ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    500: "internal_error",
}

# Paths anyone may call even when a token is configured: load balancers and
# process supervisors probe liveness without credentials.
PUBLIC_PATHS = frozenset({"/health"})


# One encoder for all responses: json.dumps with options builds a new one per call.
_encode_json = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _dumps(body: Any) -> bytes:
    return _encode_json(body).encode("utf-8")


class _Ack(msgspec.Struct):
    """The heartbeat answer, encoded by msgspec (C): cheaper than formatting
    it or encoding a dict, and the same JSON as ``_dumps`` of one."""

    status: str
    server_id: str
    created: bool
    heartbeat_count: int
    last_seen: str


class _RegisterAck(_Ack):
    """The registration answer: the heartbeat's, and ``registered_at``."""

    registered_at: str


_encode_ack = msgspec.json.Encoder().encode


def _json_response(status: int, body: Any) -> bytes:
    response = bottle.response
    if status != 200:
        response.status = status
    response.content_type = "application/json"
    return _dumps(body)


def _is_json_content_type(value: str) -> bool:
    if value == "application/json":  # what every addon sends
        return True
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


def read_report(environ: dict) -> Report:
    """The request body as a validated ``Report``, or a ClientError.

    The size limit is decided from Content-Length before reading; a body
    without one (chunked, on servers that pass it through) is read with a
    cap of one byte more than the limit.
    """
    # What every addon sends, in few steps; anything else is decided below.
    try:
        length = int(environ["CONTENT_LENGTH"])
    except (KeyError, ValueError):
        length = 0
    if 0 < length <= MAX_BODY_BYTES and environ.get("CONTENT_TYPE") == "application/json":
        return parse_report(environ["wsgi.input"].read(length))
    return _read_unusual_report(environ)


def _read_unusual_report(environ: dict) -> Report:
    raw_length = environ.get("CONTENT_LENGTH") or ""
    length = None
    if raw_length:
        try:
            length = int(raw_length)
        except ValueError:
            raise ClientError(400, "bad_request", "Content-Length is not a number") from None
        if length < 0:
            raise ClientError(400, "bad_request", "Content-Length is negative")
        if length > MAX_BODY_BYTES:
            raise ClientError(
                413, "payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes"
            )
    if not _is_json_content_type(environ.get("CONTENT_TYPE", "")):
        raise ClientError(
            415, "unsupported_media_type", "Content-Type must be application/json"
        )
    stream = environ["wsgi.input"]
    if length is not None:
        body = stream.read(length) if length else b""
    elif environ.get("wsgi.input_terminated"):
        body = stream.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            raise ClientError(
                413, "payload_too_large", f"request body exceeds {MAX_BODY_BYTES} bytes"
            )
    else:
        body = b""
    return parse_report(body)


def _error_response(exc: ClientError | StorageError) -> bytes:
    if isinstance(exc, ClientError):
        return _json_response(exc.status, exc.to_json())
    log.error("storage error on %s %s: %s", bottle.request.method, bottle.request.path, exc)
    return _json_response(503, {"error": "storage_unavailable", "message": "storage is unavailable"})


def _json_route(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Turn ClientError/StorageError into JSON responses; dict results into JSON 200."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = handler(*args, **kwargs)
        except (ClientError, StorageError) as exc:
            return _error_response(exc)
        if isinstance(result, dict):
            return _json_response(bottle.response.status_code, result)
        return result

    return wrapper


def _parse_list_param(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _parse_int_param(name: str, value: str, low: int, high: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ClientError(400, "invalid_parameter", f"{name} must be an integer", name) from None
    if not low <= number <= high:
        raise ClientError(
            400, "invalid_parameter", f"{name} must be between {low} and {high}", name
        )
    return number


def parse_server_query(params: bottle.FormsDict) -> ServerQuery:
    statuses = _parse_list_param(params.get("status", ""))
    for status in statuses:
        if status not in STATUSES:
            raise ClientError(
                400,
                "invalid_parameter",
                f"status must be one of {', '.join(STATUSES)}",
                "status",
            )
    text = params.get("q", "")
    if len(text) > MAX_QUERY_TEXT:
        raise ClientError(
            400, "invalid_parameter", f"q is longer than {MAX_QUERY_TEXT} characters", "q"
        )
    sort = params.get("sort", "server_id") or "server_id"
    descending = sort.startswith("-")
    sort = sort.lstrip("-")
    if sort not in SORT_FIELDS:
        raise ClientError(
            400, "invalid_parameter", f"sort must be one of {', '.join(SORT_FIELDS)}", "sort"
        )
    order = params.get("order", "")
    if order:
        if order not in ("asc", "desc"):
            raise ClientError(400, "invalid_parameter", "order must be asc or desc", "order")
        descending = order == "desc"
    limit = _parse_int_param("limit", params.get("limit", str(DEFAULT_PAGE_SIZE)), 1, MAX_PAGE_SIZE)
    offset = _parse_int_param("offset", params.get("offset", "0"), 0, 2**62)
    return ServerQuery(
        statuses=statuses,
        stages=_parse_list_param(params.get("stage", "")),
        text=text,
        sort=sort,
        descending=descending,
        limit=limit,
        offset=offset,
    )


def _bearer_check(token: str) -> Callable[[], None]:
    # Comparing digests keeps the comparison constant-time even in the
    # token's length.
    expected = hashlib.sha256(token.encode("utf-8")).digest()

    def check() -> None:
        environ = bottle.request.environ
        if environ.get("PATH_INFO") in PUBLIC_PATHS:
            return
        scheme, _, credentials = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        given = hashlib.sha256(credentials.strip().encode("latin-1")).digest()
        if scheme.lower() != "bearer" or not hmac.compare_digest(given, expected):
            raise bottle.HTTPResponse(
                _dumps(
                    {
                        "error": "unauthorized",
                        "message": "missing or invalid bearer token",
                    }
                ),
                401,
                {"Content-Type": "application/json", "WWW-Authenticate": 'Bearer realm="receiver"'},
            )

    return check


def _error_page(error: bottle.HTTPError) -> bytes:
    status = error.status_code
    code = _ERROR_CODES.get(status, "error")
    if status == 404:
        message = f"no route for {bottle.request.method} {bottle.request.path}"
    elif status == 405:
        message = f"method {bottle.request.method} not allowed; allowed: {error.get_header('Allow', '')}"
    elif status >= 500:
        # Never echo the exception: it may contain request data.
        message = "internal server error"
    else:
        message = str(error.body) if error.body else error.status_line
    bottle.response.content_type = "application/json"
    return _dumps({"error": code, "message": message})


def create_app(
    storage: Storage,
    *,
    token: str | None = None,
    rule: StatusRule | None = None,
    clock: Callable[[], int] = now_us,
) -> bottle.Bottle:
    rule = rule or StatusRule()
    request, response = bottle.request, bottle.response
    app = bottle.Bottle()
    # Routes pass skip=True: they produce JSON bytes themselves, so Bottle's
    # default plugins would only add a wrapper call per request.
    app.default_error_handler = _error_page
    if token:
        app.add_hook("before_request", _bearer_check(token))

    @app.post("/register", skip=True)
    @_json_route
    def register():
        result = storage.register(read_report(request.environ), clock())
        if result.created:
            log.info("registered new server %r (hostname %r)", result.record.server_id,
                     result.record.hostname)
        else:
            log.info("re-registered server %r (hostname %r)", result.record.server_id,
                     result.record.hostname)
        response.status = 201 if result.created else 200
        response.content_type = "application/json"
        record = result.record
        return _encode_ack(_RegisterAck("ok", record.server_id, result.created,
                                        record.heartbeat_count, to_iso(record.last_seen),
                                        to_iso(record.registered_at)))

    @app.post("/heartbeat", skip=True)
    def heartbeat():
        # _json_route's work written out: this route is most of the traffic.
        try:
            result = storage.heartbeat(read_report(request.environ), clock())
        except (ClientError, StorageError) as exc:
            return _error_response(exc)
        if result.created:
            # DEBUG, not INFO: a receiver started on an empty database sees
            # its whole fleet this way within a minute, one line per server.
            log.debug("new server %r first seen by heartbeat", result.record.server_id)
        # set_header, not the content_type property: one descriptor less on
        # the route every server calls every minute.
        response.set_header("Content-Type", "application/json")
        record = result.record
        return _encode_ack(_Ack("ok", record.server_id, result.created, record.heartbeat_count,
                                to_iso(record.last_seen)))

    @app.get("/servers", skip=True)
    @_json_route
    def list_servers():
        query = parse_server_query(bottle.request.query)
        now = clock()
        page = storage.list_servers(query, rule, now)
        servers = [record.to_summary(rule.classify(record.last_seen, now)) for record in page.records]
        return {
            "servers": servers,
            "count": len(servers),
            "total": page.total,
            "limit": query.limit,
            "offset": query.offset,
        }

    @app.get("/servers/<server_id:path>", skip=True)
    @_json_route
    def get_server(server_id: str):
        record = storage.get(server_id)
        if record is None:
            raise ClientError(404, "not_found", f"unknown server_id {server_id!r}")
        return record.to_json(rule.classify(record.last_seen, clock()))

    @app.delete("/servers/<server_id:path>", skip=True)
    @_json_route
    def delete_server(server_id: str):
        if not storage.delete(server_id):
            raise ClientError(404, "not_found", f"unknown server_id {server_id!r}")
        log.info("deleted server %r", server_id)
        bottle.response.status = 204
        return b""

    @app.get("/health", skip=True)
    @_json_route
    def health():
        try:
            storage.check()
        except StorageError as exc:
            log.error("health check failed: %s", exc)
            bottle.response.status = 503
            return {"status": "unavailable", "version": __version__}
        return {"status": "ok", "version": __version__}

    return app
