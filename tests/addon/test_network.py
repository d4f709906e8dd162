"""Network information never hangs, leaves no socket open and looks up no outside host."""

import os
import socket
import time

import pytest


@pytest.fixture
def phone_home():
    from odoo.addons.odoo_dev_mcp.services import phone_home
    return phone_home


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def test_primary_is_the_first_reachable_ipv4(phone_home, monkeypatch):
    monkeypatch.setattr(socket, "if_nameindex", lambda: [])
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.1.1", 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("fd00::5", 0, 0, 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", 0)),
    ])
    info = phone_home.get_ip_addresses("box")
    assert info == {"primary": "10.1.2.3", "all": ["10.1.2.3", "127.0.1.1", "fd00::5"]}


def test_only_loopback_known(phone_home, monkeypatch):
    monkeypatch.setattr(socket, "if_nameindex", lambda: [])
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [])
    assert phone_home.get_ip_addresses("box") == {"primary": "127.0.0.1", "all": ["127.0.0.1"]}


def test_resolver_asked_only_for_our_own_name(phone_home, monkeypatch):
    asked = []

    def getaddrinfo(host, *args, **kwargs):
        asked.append(host)
        return []

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    phone_home.get_ip_addresses("my-own-name")
    assert asked == ["my-own-name"]


def test_a_hanging_resolver_costs_one_bounded_wait(phone_home, monkeypatch):
    monkeypatch.setattr(phone_home, "RESOLVE_TIMEOUT_SECONDS", 0.2)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: time.sleep(3) or [])
    started = time.monotonic()
    first = phone_home.get_ip_addresses("slow-host")
    second = phone_home.get_ip_addresses("slow-host")  # remembered: no second wait
    assert time.monotonic() - started < 1.5
    assert first == second and first["primary"]


def test_real_interfaces_leave_no_socket_open(phone_home):
    before = open_fds()
    info = phone_home.get_ip_addresses(socket.gethostname())
    assert open_fds() == before
    assert info["primary"] in info["all"]
    if hasattr(socket, "if_nameindex"):
        assert "127.0.0.1" in phone_home._interface_addresses()
