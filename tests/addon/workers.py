"""Forked worker processes for the exactly-once tests, as prefork Odoo has them.

Each child is a real process with its own module state (get_param cache, in-flight set) and its
own database connections; all start their work at the same moment.
"""

import json
import logging
import os
import select
import time
import traceback


class _Recorder(logging.Handler):
    """A worker's WARNING and ERROR records, sent back to the test with its result (a forked
    child's log records otherwise stay in the child)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append({"pid": os.getpid(), "name": record.name, "level": record.levelname,
                             "message": record.getMessage()})


def run_in_workers(jobs, timeout=60.0, logs=None):
    """Fork one process per job (a callable returning something JSON-able), release them all at
    once, and return their results in order. A child that raises fails the test. With `logs` (a
    list), every worker's WARNING and ERROR log records are appended to it."""
    go_read, go_write = os.pipe()
    children = []
    for job in jobs:
        result_read, result_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: wait for the start signal, do the job, report, exit
            status = 0
            recorder = _Recorder()
            logging.getLogger().addHandler(recorder)
            try:
                os.close(result_read)
                os.close(go_write)
                select.select([go_read], [], [], timeout)
                outcome = {"ok": job(), "logs": recorder.records}
            except BaseException:  # noqa: B036 - reported to the parent, never swallowed
                outcome = {"error": traceback.format_exc()}
                status = 1
            finally:
                try:
                    os.write(result_write, json.dumps(outcome, default=str).encode())
                finally:
                    os._exit(status)
        os.close(result_write)
        children.append((pid, result_read))
    os.close(go_read)
    time.sleep(0.05)
    os.write(go_write, b"go")  # readable for every child at once
    os.close(go_write)
    results = []
    for pid, result_read in children:
        chunks = []
        while chunk := os.read(result_read, 65536):
            chunks.append(chunk)
        os.close(result_read)
        os.waitpid(pid, 0)
        outcome = json.loads(b"".join(chunks) or b'{"error": "child died without a word"}')
        if "error" in outcome:
            raise AssertionError(f"worker {pid} failed:\n{outcome['error']}")
        if logs is not None:
            logs.extend(outcome["logs"])
        results.append(outcome["ok"])
    return results
