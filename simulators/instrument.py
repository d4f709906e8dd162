"""Watching a simulated Odoo process without sending anything: outgoing HTTP and the addon's logs.

* `threading.Thread.start` is wrapped to record the start of the addon's threads (named `mcp-...`):
  how many workers raced to register a hostname.
* `requests.adapters.HTTPAdapter.send` is wrapped: every request the process sends (the addon
  uses `requests`) becomes an `http_out` event with method, URL, JSON body, status or exception
  and the real duration. The request itself goes out unchanged.
* Log records of the addon (`odoo.addons.odoo_dev_mcp`, INFO and up) become `addon_log` events:
  they name the trigger of each registration. Errors logged anywhere in the simulated Odoo
  (`odoo`, ERROR and up) become `odoo_error` events: a run where Odoo broke is a broken run.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from urllib.parse import urlsplit

from .clock import Real
from .events import EventWriter

ADDON_LOGGERS = ("odoo.addons.odoo_dev_mcp", "odoo.addons.odoo_dev_mcp_legacy")

_installed = False


def _decode_body(body):
    if body is None:
        return None
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            return {"_undecodable_bytes": len(body)}
    try:
        return json.loads(body)
    except (TypeError, ValueError):
        return {"_raw": str(body)[:2000]}


def install(writer: EventWriter) -> None:
    global _installed
    if _installed:
        return
    _installed = True
    import requests.adapters

    original_send = requests.adapters.HTTPAdapter.send

    def send(self, request, *args, **kwargs):
        started = Real.perf_counter()
        parts = urlsplit(request.url)
        base = {
            "method": request.method,
            "url": request.url,
            "path": parts.path,
            "body": _decode_body(request.body),
            "authorization": "Authorization" in request.headers,
            "thread": threading.current_thread().name,
            "thread_id": threading.get_ident(),
        }
        try:
            response = original_send(self, request, *args, **kwargs)
        except Exception as exc:
            writer.emit("http_out", status=None, ok=False, error=type(exc).__name__,
                        duration=round(Real.perf_counter() - started, 4), **base)
            raise
        writer.emit("http_out", status=response.status_code, ok=200 <= response.status_code < 300,
                    error=None, duration=round(Real.perf_counter() - started, 4), **base)
        return response

    requests.adapters.HTTPAdapter.send = send

    original_start = threading.Thread.start

    def start(self):
        # Observed, not changed: how many workers raced to register (the addon's thread names).
        if self.name.startswith("mcp-"):
            writer.emit("thread_started", name=self.name)
        return original_start(self)

    threading.Thread.start = start

    class _Handler(logging.Handler):
        def __init__(self, kind, level):
            super().__init__(level)
            self.kind = kind

        def emit(self, record):
            try:
                message = record.getMessage()
                fields = {"logger": record.name, "level": record.levelname, "message": message,
                          "thread": record.threadName, "thread_id": record.thread}
                if record.exc_info and self.kind == "odoo_error":
                    fields["exception"] = "".join(traceback.format_exception(*record.exc_info))[-3000:]
                writer.emit(self.kind, **fields)
            except Exception:  # noqa: BLE001 - never let instrumentation break Odoo
                self.handleError(record)

    for name in ADDON_LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(_Handler("addon_log", logging.INFO))
        if logger.level == logging.NOTSET or logger.level > logging.INFO:
            logger.setLevel(logging.INFO)
    logging.getLogger("odoo").addHandler(_Handler("odoo_error", logging.ERROR))
