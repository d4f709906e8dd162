"""Fixtures: receivers started as ``python -m receiver`` subprocesses."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from receiver_support import Receiver

_ids = itertools.count()


@pytest.fixture
def start_receiver(tmp_path):
    """Factory: ``start_receiver(*extra_args, env=...)``; everything started is stopped."""
    started: list[Receiver] = []

    def start(*extra_args: str, env: dict[str, str] | None = None, db: Path | None = None):
        receiver = Receiver(db or tmp_path / f"fleet-{len(started)}.db", *extra_args, env=env)
        started.append(receiver)
        return receiver.start()

    yield start
    for receiver in started:
        if receiver.process and receiver.process.poll() is None:
            receiver.kill()


@pytest.fixture(scope="module")
def shared_receiver(tmp_path_factory):
    """One receiver shared by a module's tests; tests use their own server_ids."""
    instance = Receiver(tmp_path_factory.mktemp("receiver") / "fleet.db").start()
    yield instance
    if instance.process.poll() is None:
        instance.kill()


@pytest.fixture
def server_id(request) -> str:
    """A server_id no other test uses, in the addon's "{dbname}_{hostname}" shape."""
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60]
    return f"db{next(_ids)}_{name}.odoo.example"
