"""The Model Context Protocol over stateless Streamable HTTP, JSON responses only: one POST in,
one answer out. No Odoo in here: the controller hands in the body, the headers and a `ToolSet`
(what this user may list and call), and sends back the `Answer`.

Two eras of the protocol are served side by side:
- handshake versions (2025-03-26, 2025-06-18, 2025-11-25): `initialize` negotiates, later
  requests carry `MCP-Protocol-Version` (absent: 2025-03-26, as the specification says);
- 2026-07-28: no handshake; every request names its version in `params._meta` and in the
  `MCP-Protocol-Version` header, `Mcp-Method` (and `Mcp-Name` for tools/call) repeat the body;
  `server/discover` tells a client what the server speaks. Results carry `resultType`, lists
  `ttlMs`/`cacheScope`, and `_meta` names the server.
Keeping no session is what lets any prefork worker, and any rebuilt container, answer.
"""

import base64
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HANDSHAKE_VERSIONS = ("2025-03-26", "2025-06-18", "2025-11-25")
MODERN_VERSIONS = ("2026-07-28",)
SUPPORTED_VERSIONS = HANDSHAKE_VERSIONS + MODERN_VERSIONS
LATEST_HANDSHAKE_VERSION = HANDSHAKE_VERSIONS[-1]
VERSION_WITHOUT_HEADER = "2025-03-26"

PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022

# 2026-07-28 maps errors to HTTP statuses; the handshake era answers errors with 200 except
# the transport-level ones (a body that is no JSON-RPC request, an unsupported version).
_MODERN_ERROR_STATUS = {PARSE_ERROR: 400, INVALID_REQUEST: 400, INVALID_PARAMS: 400,
                        HEADER_MISMATCH: 400, UNSUPPORTED_PROTOCOL_VERSION: 400,
                        METHOD_NOT_FOUND: 404}
_TRANSPORT_ERRORS = (PARSE_ERROR, INVALID_REQUEST, UNSUPPORTED_PROTOCOL_VERSION)

TOOLS_PAGE_SIZE = 50
# The tools a user sees change with module upgrades and their groups: cache briefly, privately.
TOOLS_TTL_MS = 60_000


class ProtocolError(Exception):
    def __init__(self, code, message, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class UnknownTool(Exception):
    """No tool of that name for this user."""


class ToolSet:
    """What the endpoint serves to one authenticated user (the controller's implementation
    runs Odoo; tests can give a plain one)."""

    def list_tools(self) -> list[dict]:
        raise NotImplementedError

    def call_tool(self, name: str, arguments: dict) -> dict:
        """A CallToolResult; raises UnknownTool."""
        raise NotImplementedError


@dataclass
class Answer:
    status: int
    body: dict | None = None
    headers: dict = field(default_factory=dict)


@dataclass
class ToolCallReport:
    """What one `tools/call` request came to, for the caller's audit: `outcome` is `ok`, `tool_error`
    (an `isError` result) or `protocol_error` (a JSON-RPC error: unknown tool, bad params or
    envelope); `name`/`arguments` as sent (None when absent or not of the right type)."""
    name: str | None
    arguments: dict | None
    outcome: str
    duration_ms: int


@dataclass
class ServerInfo:
    name: str
    version: str
    title: str = ""
    instructions: str = ""

    def implementation(self) -> dict:
        info = {"name": self.name, "version": self.version}
        if self.title:
            info["title"] = self.title
        return info


def error_body(request_id, code, message, data=None) -> dict:
    """A JSON-RPC error. Without a request id to echo, `id` is left out: MCP's schema has no
    `"id": null`."""
    error = {"code": code, "message": message}
    if data is not None:
        error["data"] = data
    body = {"jsonrpc": "2.0", "error": error}
    if request_id is not None:
        body["id"] = request_id
    return body


def _header_value(raw):
    """A header's value without the optional whitespace around it (RFC 9110 5.5); the form
    `=?base64?...?=` carries UTF-8 that plain header values cannot."""
    raw = raw.strip(" \t") if raw is not None else None
    if raw and raw.startswith("=?base64?") and raw.endswith("?="):
        try:
            return base64.b64decode(raw[9:-2], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return None
    return raw


def _unsupported(requested) -> ProtocolError:
    return ProtocolError(
        UNSUPPORTED_PROTOCOL_VERSION,
        f"Unsupported protocol version {requested!r}; supported: {', '.join(SUPPORTED_VERSIONS)}",
        {"supported": list(SUPPORTED_VERSIONS), "requested": requested})


def handle(body: bytes, headers, tools: ToolSet, server: ServerInfo,
           on_tool_call: Callable[[ToolCallReport], None] | None = None) -> Answer:
    """One POSTed JSON-RPC message. `headers`: a case-insensitive mapping (werkzeug's).
    `on_tool_call`, if given, is called once per `tools/call` request that reaches dispatch,
    after the tool ran, with a `ToolCallReport`."""
    try:
        message = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return Answer(400, error_body(None, PARSE_ERROR, "Parse error: the body is not JSON"))
    if isinstance(message, list):
        return Answer(400, error_body(None, INVALID_REQUEST,
                                      "Invalid Request: batches are not supported, send one message"))
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
        return Answer(400, error_body(None, INVALID_REQUEST,
                                      "Invalid Request: a JSON-RPC 2.0 object is expected"))
    if "method" not in message:
        if "id" in message and ("result" in message or "error" in message):
            return Answer(202)  # a response to a request we never send: acknowledged
        return Answer(400, error_body(message.get("id"), INVALID_REQUEST,
                                      "Invalid Request: no method"))
    if "id" not in message:
        return Answer(202)  # a notification: nothing to answer
    request_id = message["id"]
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int)):
        return Answer(400, error_body(None, INVALID_REQUEST,
                                      "Invalid Request: id must be a string or an integer"))
    method, params = message["method"], message.get("params")
    if not isinstance(method, str) or (params is not None and not isinstance(params, dict)):
        return Answer(400, error_body(request_id, INVALID_REQUEST,
                                      "Invalid Request: method must be a string, params an object"))
    params = params or {}
    header_version = _header_value(headers.get("MCP-Protocol-Version"))
    modern = header_version is not None and header_version not in HANDSHAKE_VERSIONS
    started = time.perf_counter()
    answer = _answer(message, request_id, method, params, headers, header_version, modern, tools,
                     server)
    if on_tool_call is not None and method == "tools/call":
        body = answer.body or {}
        outcome = ("protocol_error" if "error" in body
                   else "tool_error" if body.get("result", {}).get("isError") else "ok")
        name, arguments = params.get("name"), params.get("arguments")
        on_tool_call(ToolCallReport(
            name if isinstance(name, str) else None,
            arguments if isinstance(arguments, dict) else None,
            outcome, round((time.perf_counter() - started) * 1000)))
    return answer


def _answer(message, request_id, method, params, headers, header_version, modern, tools,
            server) -> Answer:
    try:
        if modern:
            _check_modern_envelope(message, params, headers, header_version)
            result = _dispatch(method, params, tools, server, header_version)
            result.setdefault("resultType", "complete")
            result["_meta"] = dict(result.get("_meta") or {}, **{
                SERVER_INFO_META: server.implementation()})
        else:
            result = _dispatch(method, params, tools, server, header_version or VERSION_WITHOUT_HEADER)
    except ProtocolError as error:
        if modern:
            status = _MODERN_ERROR_STATUS.get(error.code, 200)
        else:
            status = 400 if error.code in _TRANSPORT_ERRORS else 200
        return Answer(status, error_body(request_id, error.code, error.message, error.data))
    return Answer(200, {"jsonrpc": "2.0", "id": request_id, "result": result})


def _check_modern_envelope(message, params, headers, header_version):
    if header_version not in SUPPORTED_VERSIONS:
        raise _unsupported(header_version)  # name what we speak before anything else
    meta = params.get("_meta")
    if not isinstance(meta, dict) or PROTOCOL_VERSION_META not in meta \
            or CLIENT_CAPABILITIES_META not in meta:
        raise ProtocolError(INVALID_PARAMS, f"params._meta must carry {PROTOCOL_VERSION_META!r} "
                                            f"and {CLIENT_CAPABILITIES_META!r}")
    if meta[PROTOCOL_VERSION_META] != header_version:
        raise ProtocolError(HEADER_MISMATCH, "MCP-Protocol-Version header does not match "
                                             "params._meta's protocol version")
    if _header_value(headers.get("Mcp-Method")) != message["method"]:
        raise ProtocolError(HEADER_MISMATCH, "Mcp-Method header does not match the body's method")
    if message["method"] == "tools/call" and params.get("name") is not None \
            and _header_value(headers.get("Mcp-Name")) != params.get("name"):
        raise ProtocolError(HEADER_MISMATCH, "Mcp-Name header does not match the tool's name")


def _capabilities() -> dict:
    return {"tools": {"listChanged": False}}


def _dispatch(method, params, tools, server, version) -> dict:
    modern = version in MODERN_VERSIONS
    if method == "ping" and not modern:  # 2026-07-28 removed ping with the handshake
        return {}
    if method == "initialize" and not modern:
        requested = params.get("protocolVersion")
        if not isinstance(requested, str):
            raise ProtocolError(INVALID_PARAMS, "initialize: protocolVersion (a string) is required")
        result = {
            # an unsupported version gets the newest we speak: the client decides
            "protocolVersion": requested if requested in HANDSHAKE_VERSIONS
            else LATEST_HANDSHAKE_VERSION,
            "capabilities": _capabilities(),
            "serverInfo": server.implementation(),
        }
        if server.instructions:
            result["instructions"] = server.instructions
        return result
    if method == "server/discover" and modern:
        result = {"supportedVersions": list(SUPPORTED_VERSIONS), "capabilities": _capabilities(),
                  "ttlMs": TOOLS_TTL_MS, "cacheScope": "public"}
        if server.instructions:
            result["instructions"] = server.instructions
        return result
    if method == "tools/list":
        return _list_tools(params, tools, modern)
    if method == "tools/call":
        return _call_tool(params, tools)
    raise ProtocolError(METHOD_NOT_FOUND, f"Method not found: {method}")


def _list_tools(params, tools, modern) -> dict:
    cursor = params.get("cursor")
    start = 0
    if cursor is not None:
        if not (isinstance(cursor, str) and cursor.isdigit()):
            raise ProtocolError(INVALID_PARAMS, "tools/list: invalid cursor")
        start = int(cursor)
    every = tools.list_tools()
    if start > len(every):
        raise ProtocolError(INVALID_PARAMS, "tools/list: invalid cursor")
    result = {"tools": every[start:start + TOOLS_PAGE_SIZE]}
    if start + TOOLS_PAGE_SIZE < len(every):
        result["nextCursor"] = str(start + TOOLS_PAGE_SIZE)
    if modern:
        result.update(ttlMs=TOOLS_TTL_MS, cacheScope="private")
    return result


def _call_tool(params, tools) -> dict:
    name = params.get("name")
    arguments = params.get("arguments")
    if not isinstance(name, str):
        raise ProtocolError(INVALID_PARAMS, "tools/call: name (a string) is required")
    if arguments is not None and not isinstance(arguments, dict):
        raise ProtocolError(INVALID_PARAMS, "tools/call: arguments must be an object")
    try:
        return tools.call_tool(name, arguments or {})
    except UnknownTool:
        raise ProtocolError(INVALID_PARAMS, f"Unknown tool: {name}") from None


def tool_result(value, failed=False) -> dict:
    """A CallToolResult: the value as JSON text, and as structuredContent when it is an object."""
    if failed:
        return {"content": [{"type": "text", "text": str(value)}], "isError": True}
    result = {"content": [{"type": "text", "text": json.dumps(value, default=str)}],
              "isError": False}
    if isinstance(value, dict):
        result["structuredContent"] = value
    return result
