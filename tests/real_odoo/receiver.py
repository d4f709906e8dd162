"""A recording fleet receiver on 127.0.0.1: what the addon sends, when, and how it was answered.

Modes: "ok" (200), "503", "hang" (answers nothing for `hang_seconds`), "down" (the port closed:
connections are refused; `mode = "ok"` later listens on the same port again).
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class RecordingReceiver:
    def __init__(self, on_register=None, hang_seconds=30.0):
        self.calls: list[dict] = []
        self.on_register = on_register  # called in the request, before it is answered
        self.hang_seconds = hang_seconds
        self._mode = "ok"
        self._lock = threading.Lock()
        self._stop_hanging = threading.Event()
        self._server = None
        self.port = None
        self._listen()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def _listen(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                mode = receiver._mode
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                call = {"path": self.path, "json": payload, "at": time.time(), "mode": mode,
                        "authorization": self.headers.get("Authorization")}
                if mode == "ok" and self.path.endswith("/register") and receiver.on_register:
                    call["observed"] = receiver.on_register(payload)
                with receiver._lock:
                    receiver.calls.append(call)
                if mode == "hang":
                    receiver._stop_hanging.wait(receiver.hang_seconds)
                    return
                status = 200 if mode == "ok" else 503
                answer = json.dumps({"ok": status == 200}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self._server = _Server(("127.0.0.1", self.port or 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def mode(self):
        return self._mode

    @mode.setter
    def mode(self, mode):
        assert mode in ("ok", "503", "hang", "down"), mode
        if mode == "down" and self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        elif mode != "down" and self._server is None:
            self._listen()
        if mode != "hang":
            self._stop_hanging.set()
        else:
            self._stop_hanging.clear()
        self._mode = mode

    def close(self):
        self._stop_hanging.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ---------------------------------------------------------------- reading

    def of(self, path, hostname=None, mode="ok"):
        with self._lock:
            calls = list(self.calls)
        return [call for call in calls if call["path"].endswith(path)
                and (mode is None or call["mode"] == mode)
                and (hostname is None or (call["json"] or {}).get("hostname") == hostname)]

    def registrations(self, hostname=None, mode="ok"):
        return self.of("/register", hostname, mode)

    def heartbeats(self, hostname=None):
        return self.of("/heartbeat", hostname)

    def wait_for(self, condition, timeout, poll=0.1):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return True
            time.sleep(poll)
        return condition()
