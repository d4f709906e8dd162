"""Phone home: tell the fleet receiver where this server is (register) and that it lives (heartbeat).

Both calls share one payload builder so the two can never drift apart. Nothing here may block Odoo
on the network: every request has a short timeout, registration retries within a 10 s budget, a
heartbeat is tried once. Neither ever raises for a network problem: they log and return False.
"""

import configparser
import fcntl
import functools
import ipaddress
import logging
import os
import socket
import struct
import threading
import time
from datetime import datetime, timezone
from urllib.parse import urlsplit, urlunsplit

import requests

from odoo import release
from odoo.tools import config

from ..mcp_tools.registry import get_tool_registry
from .version import ADDON_VERSION

_logger = logging.getLogger(__name__)

# Set when this module is first imported in a process: a prefork worker that imports it after the
# fork has its own start time; one imported before the fork (server-wide module) shares it.
_server_start_time = time.time()

TRANSPORT = "http/sse"
URL_KEY = "mcp.phone_home_url"
TOKEN_KEY = "mcp.phone_home_token"
PORT_KEY = "mcp.server_port"

REGISTER_BUDGET_SECONDS = 10.0
REGISTER_ATTEMPTS = 3
BACKOFF_FIRST_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 2.0
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 3.0
RESOLVE_TIMEOUT_SECONDS = 1.0

_SIOCGIFADDR = 0x8915  # Linux ioctl: an interface's IPv4 address, no network traffic involved


def get_server_hostname() -> str:
    return socket.gethostname()


def get_odoo_stage() -> str:
    """Odoo.sh sets ODOO_STAGE to production, staging or dev; self-hosted servers have none."""
    return os.environ.get("ODOO_STAGE", "")


def get_uptime_seconds() -> float:
    return round(time.time() - _server_start_time, 3)


def utc_timestamp(epoch: float | None = None) -> str:
    """ISO 8601 in UTC with a Z suffix, e.g. 2026-11-22T05:19:39Z."""
    moment = datetime.fromtimestamp(time.time() if epoch is None else epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------- network information

_resolved: dict[str, list[str]] = {}
_resolved_lock = threading.Lock()


def _resolve_own_hostname(hostname: str) -> list[str]:
    """Addresses the resolver gives for our own name (/etc/hosts in a container).

    getaddrinfo cannot be given a timeout and a broken resolver can stall it for many seconds, so
    it runs in a daemon thread we wait for at most RESOLVE_TIMEOUT_SECONDS. The answer (or its
    absence) is kept per hostname: a slow resolver costs one wait per hostname and process.
    """
    with _resolved_lock:
        if hostname in _resolved:
            return _resolved[hostname]
    found: list[str] = []

    def resolve():
        try:
            infos = socket.getaddrinfo(hostname, None, proto=socket.IPPROTO_TCP)
            found.extend(info[4][0] for info in infos)
        except OSError:
            pass

    worker = threading.Thread(target=resolve, name="mcp-resolve-hostname", daemon=True)
    worker.start()
    worker.join(RESOLVE_TIMEOUT_SECONDS)
    answer = list(found) if not worker.is_alive() else []
    with _resolved_lock:
        _resolved[hostname] = answer
    return answer


def _interface_addresses() -> list[str]:
    """IPv4 addresses of the network interfaces (Linux), read from the kernel without traffic."""
    try:
        names = [name for _index, name in socket.if_nameindex()]
    except OSError:
        return []
    addresses = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        for name in names:
            try:
                packed = fcntl.ioctl(probe.fileno(), _SIOCGIFADDR,
                                     struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue  # an interface without an IPv4 address
            addresses.append(socket.inet_ntoa(packed[20:24]))
    return addresses


def _is_reachable_from_outside(address: str) -> bool:
    parsed = ipaddress.ip_address(address.split("%")[0])
    return not (parsed.is_loopback or parsed.is_link_local or parsed.is_unspecified)


def get_ip_addresses(hostname: str | None = None) -> dict:
    """{'primary': best address to reach us, 'all': every address}, in bounded time, no sockets left."""
    hostname = hostname or get_server_hostname()
    resolved = _resolve_own_hostname(hostname)
    every = list(dict.fromkeys(resolved + _interface_addresses()))
    candidates = [a for a in every if _is_reachable_from_outside(a)]
    ipv4 = [a for a in candidates if ":" not in a]
    primary = (ipv4 or candidates or every or ["127.0.0.1"])[0]
    return {"primary": primary, "all": sorted(every) or [primary]}


# ---------------------------------------------------------------- payloads

# Fleet-wide configuration, where no System Parameter is set: an environment variable, then the
# [odoo_dev_mcp] section of odoo.conf, then the legacy [options] key (Odoo 19 warns "unknown
# option" about those at every start, before any addon loads; it ignores other sections).
ENV_VARIABLES = {URL_KEY: "MCP_PHONE_HOME_URL", TOKEN_KEY: "MCP_PHONE_HOME_TOKEN",
                 PORT_KEY: "MCP_SERVER_PORT"}
CONF_SECTION = "odoo_dev_mcp"


@functools.lru_cache(maxsize=4)
def _conf_section(path: str) -> dict:
    """The [odoo_dev_mcp] section of the config file, read once per process (as Odoo reads it)."""
    parser = configparser.RawConfigParser()
    try:
        parser.read([path])
    except configparser.Error:
        return {}
    return dict(parser.items(CONF_SECTION)) if parser.has_section(CONF_SECTION) else {}


def _config_file() -> str | None:
    # 19 keeps the path in config['config']; 17/18 in config.rcfile (a deprecated property on 19)
    return config.get("config") or vars(config).get("rcfile")


def _setting(icp, key):
    """A setting from System Parameters (Settings > MCP), else from the server's configuration."""
    value = icp.get_param(key) or os.environ.get(ENV_VARIABLES[key])
    if not value:
        path = _config_file()
        short_name = key.split(".", 1)[1]  # mcp.phone_home_url -> phone_home_url
        value = (_conf_section(path).get(short_name) if path else None) or config.get(
            key.replace(".", "_"))
    return value or ""


def _settings(env):
    icp = env["ir.config_parameter"].sudo()
    return _setting(icp, URL_KEY), _setting(icp, TOKEN_KEY), _setting(icp, PORT_KEY)


def receiver_url(env) -> str:
    return _setting(env["ir.config_parameter"].sudo(), URL_KEY)


def _advertised_port(configured) -> int:
    try:
        port = int(configured)
    except (TypeError, ValueError):
        port = 0
    return port if 0 < port < 65536 else int(config.get("http_port") or 8069)


MCP_PATH = "/mcp/v1"


def _build_server_payload(env) -> dict:
    """What both registration and heartbeat carry: the seed's ten fields (seed 001, Shared Server
    Payload Builder), plus where agents connect (`mcp_url`) and the database's own identity, which
    survives rebuilds (`database_uuid`)."""
    hostname = get_server_hostname()
    database = env.cr.dbname
    icp = env["ir.config_parameter"].sudo()
    _url, _token, port = _settings(env)
    base_url = (icp.get_param("web.base.url") or "").rstrip("/")
    return {
        "server_id": f"{database}_{hostname}",
        "hostname": hostname,
        "ip_addresses": get_ip_addresses(hostname),
        "port": _advertised_port(port),
        "transport": TRANSPORT,
        "version": ADDON_VERSION,
        "odoo_version": release.version,
        "database": database,
        "capabilities": sorted(get_tool_registry()),
        "odoo_stage": get_odoo_stage(),
        "mcp_url": f"{base_url}{MCP_PATH}" if base_url else "",
        "database_uuid": icp.get_param("database.uuid") or "",
    }


# ---------------------------------------------------------------- HTTP

def _endpoint(base_url: str, path: str) -> str | None:
    parts = urlsplit(base_url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/") + path, parts.query, ""))


def _redacted(url: str) -> str:
    """The URL without user:password, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _headers(token: str) -> dict:
    headers = {"Content-Type": "application/json", "User-Agent": f"odoo-dev-mcp/{ADDON_VERSION}"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return headers


def _post(url, payload, token, timeout):
    """One POST. Returns (acknowledged, retry_makes_sense, reason)."""
    try:
        response = requests.post(url, json=payload, headers=_headers(token), timeout=timeout)
    except requests.Timeout:
        return False, True, "timed out"
    except requests.RequestException as error:
        return False, True, f"{type(error).__name__}"
    if response.status_code in (200, 201):
        return True, False, ""
    retryable = response.status_code >= 500 or response.status_code == 429
    return False, retryable, f"HTTP {response.status_code}"


def register_server(env) -> bool:
    """POST {url}/register with the shared payload plus started_at.

    Up to REGISTER_ATTEMPTS attempts with capped exponential backoff, all within
    REGISTER_BUDGET_SECONDS; a 4xx answer is final (a retry would get the same answer).
    """
    base_url, token, _port = _settings(env)
    if not base_url:
        return False
    url = _endpoint(base_url, "/register")
    if url is None:
        _logger.warning("MCP registration skipped: %s is not an http(s) URL", URL_KEY)
        return False
    payload = dict(_build_server_payload(env), started_at=utc_timestamp(_server_start_time))
    deadline = time.monotonic() + REGISTER_BUDGET_SECONDS
    backoff = BACKOFF_FIRST_SECONDS
    reason = ""
    for attempt in range(1, REGISTER_ATTEMPTS + 1):
        remaining = deadline - time.monotonic()
        if remaining <= 0.05:
            break
        timeout = (min(CONNECT_TIMEOUT_SECONDS, remaining), min(READ_TIMEOUT_SECONDS, remaining))
        acknowledged, retryable, reason = _post(url, payload, token, timeout)
        if acknowledged:
            _logger.info("MCP server %s registered with %s", payload["server_id"], _redacted(url))
            return True
        if not retryable or attempt == REGISTER_ATTEMPTS:
            break
        pause = min(backoff, BACKOFF_CAP_SECONDS, max(0.0, deadline - time.monotonic() - 0.05))
        time.sleep(pause)
        backoff *= 2
    _logger.warning("MCP registration of %s with %s failed: %s",
                    payload["server_id"], _redacted(url), reason or "time budget spent")
    return False


def send_heartbeat(env) -> bool:
    """POST {url}/heartbeat with the shared payload plus status, timestamp and uptime_seconds.

    Tried once: the cron sends the next one a minute later anyway.
    """
    base_url, token, _port = _settings(env)
    if not base_url:
        return False
    url = _endpoint(base_url, "/heartbeat")
    if url is None:
        _logger.warning("MCP heartbeat skipped: %s is not an http(s) URL", URL_KEY)
        return False
    payload = dict(
        _build_server_payload(env),
        status="healthy",
        timestamp=utc_timestamp(),
        uptime_seconds=get_uptime_seconds(),
    )
    acknowledged, _retryable, reason = _post(
        url, payload, token, (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))
    if not acknowledged:
        _logger.warning("MCP heartbeat of %s to %s failed: %s",
                        payload["server_id"], _redacted(url), reason)
    return acknowledged
