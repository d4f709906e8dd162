"""The six scenarios of the issue, each against the project's receiver over real HTTP, plus the
other cases the simulators model (recycled workers, no preload, staging copies) and a negative
control showing the simulators catch a registration race."""

from __future__ import annotations

import pytest
from simulators_support import (
    CRON_RUN_BOUND,
    HEALTH_BOUND,
    HEARTBEAT_FIELDS,
    REGISTER_FIELDS,
    START,
    check_payload,
    events_of,
    iso_epoch,
    posts,
    wait_until,
)

from simulators.receiver_process import get_json


def _receiver_record(receiver, server_id):
    return receiver.get(f"/servers/{server_id}")


def _fleet(receiver, database):
    return [s for s in receiver.get("/servers")["servers"] if s.get("database") == database]


def _assert_nothing_broke(sim):
    summary = sim.report()["summary"]
    assert summary["problems"] == []
    assert summary["other_requests"] == []
    assert not events_of(sim, "odoo_error")


# 1 -----------------------------------------------------------------------------------------------
def test_rebuild_then_first_health_request_tells_receiver_before_next_cron_tick(receiver, make_sim):
    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=4)
    prod.start()
    sim.advance_minutes(1)
    old = prod.server_id
    sim.advance(30)
    prod.rebuild()
    assert prod.server_id != old
    rebuilt_at = sim.now()

    burst = prod.health_burst(1)

    assert burst.all_ok
    record = _receiver_record(receiver, prod.server_id)
    assert record["hostname"] == prod.hostname
    assert record["registered_at"] is not None
    assert record["heartbeat_count"] == 0  # no cron run since the rebuild
    assert not events_of(sim, "tick", server="prod", gen=1)
    registration = posts(sim, "register", gen=1)
    assert len(registration) == 1 and registration[0]["ok"]
    assert registration[0]["sim"] == rebuilt_at  # at the first health request, before any tick
    assert registration[0]["role"].startswith("http-")
    assert sim.report()["summary"]["generations"][1]["registration_triggers"] == ["health"]
    check_payload(registration[0]["body"], REGISTER_FIELDS, hostname=prod.hostname)
    _assert_nothing_broke(sim)


# 2 -----------------------------------------------------------------------------------------------
def test_rebuild_without_traffic_next_cron_run_registers_then_heartbeats_enriched(receiver, make_sim):
    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=2)
    prod.start()
    sim.advance_minutes(1)
    sim.advance(30)
    prod.rebuild()
    rebuilt_at = sim.now()
    with pytest.raises(Exception, match="404"):
        _receiver_record(receiver, prod.server_id)  # nobody told the receiver yet

    sim.advance_minutes(1)

    register, heartbeat = posts(sim, "register", gen=1), posts(sim, "heartbeat", gen=1)
    assert len(register) == 1 and len(heartbeat) == 1
    assert register[0]["role"] == heartbeat[0]["role"] == "cron"
    assert sim.events().index(register[0]) < sim.events().index(heartbeat[0])
    assert register[0]["sim"] == heartbeat[0]["sim"] == rebuilt_at + 60
    check_payload(heartbeat[0]["body"], HEARTBEAT_FIELDS, hostname=prod.hostname)
    record = _receiver_record(receiver, prod.server_id)
    assert record["hostname"] == prod.hostname
    assert record["heartbeat_count"] == 1
    assert record["ip_addresses"] == heartbeat[0]["body"]["ip_addresses"]
    assert record["ip_addresses"]["primary"] == prod.container.addresses[0]
    assert record["odoo_stage"] == "production"
    assert record["uptime_seconds"] == 60.0
    summary = sim.report()["summary"]
    assert summary["generations"][1]["registration_triggers"] == ["cron"]
    assert summary["told_after_sim_seconds"]["cron"] == [60.0]
    _assert_nothing_broke(sim)


# 3 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("workers", [1, 4, 16])
def test_workers_answering_health_at_once_after_a_rebuild_register_exactly_once(
        receiver, make_sim, workers, db_dsn):
    sim = make_sim(receiver.url, db_dsn=db_dsn)
    prod = sim.add_server("prod", workers=workers)
    prod.start()
    rebuilds = 1 if workers == 1 else 2
    for _ in range(rebuilds):
        sim.advance(30)
        prod.rebuild()
        burst = prod.health_burst(max(4, 2 * workers))
        assert burst.all_ok, (burst.statuses, burst.errors)

    summary = sim.report()["summary"]
    assert summary["registrations_per_generation"] == [1] * (rebuilds + 1)
    assert summary["register_posts"] == rebuilds + 1  # not even a failed extra attempt
    racers = [g["registration_thread_processes"] for g in summary["generations"][1:]]
    if workers > 1:
        assert max(racers) >= 2, f"no race happened, the test proves nothing: {racers}"
    fleet = _fleet(receiver, prod.dbname)
    assert sorted(s["hostname"] for s in fleet) == sorted(
        g["hostname"] for g in summary["generations"])
    _assert_nothing_broke(sim)


# 4 -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("recovery", ["health", "cron"])
def test_receiver_down_during_rebuild_then_back(receiver, make_sim, recovery):
    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=4)
    prod.start()
    sim.advance_minutes(1)

    receiver.stop()
    sim.advance(30)
    prod.rebuild()
    rebuilt_at = sim.now()
    burst = prod.health_burst(8)
    sim.advance_minutes(2)  # two cron runs while the receiver is down
    receiver.start()  # same port

    assert burst.all_ok and burst.max_latency < HEALTH_BOUND
    down_heartbeats = posts(sim, "heartbeat", gen=1)
    assert len(down_heartbeats) == 2
    assert all(not h["ok"] and h["error"] for h in down_heartbeats)
    warnings = [e for e in events_of(sim, "addon_log", gen=1)
                if e["level"] == "WARNING" and "heartbeat" in e["message"] and "failed" in e["message"]]
    assert len(warnings) == 2
    assert not [r for r in posts(sim, "register", gen=1) if r["ok"]]
    assert all(t["duration"] < CRON_RUN_BOUND for t in events_of(sim, "tick", gen=1))

    if recovery == "health":
        sim.advance(40)  # past the 30 s back-off of the last failed attempt
        prod.health_burst(2)
    else:
        sim.advance_minutes(1)

    acknowledged = [r for r in posts(sim, "register", gen=1) if r["ok"]]
    assert len(acknowledged) == 1
    assert acknowledged[0]["sim"] > rebuilt_at + 120  # after the receiver came back
    trigger = sim.report()["summary"]["generations"][1]["registration_triggers"]
    assert trigger == [recovery]
    record = _receiver_record(receiver, prod.server_id)
    assert record["hostname"] == prod.hostname and record["registered_at"]
    if recovery == "cron":
        assert record["heartbeat_count"] == 1
        assert posts(sim, "heartbeat", gen=1)[-1]["ok"]
    _assert_nothing_broke(sim)


# 5 -----------------------------------------------------------------------------------------------
def test_old_addon_slim_heartbeats_beside_new_ones_keep_receiver_fields(receiver, make_sim):
    sim = make_sim(receiver.url)
    old = sim.add_server("old", workers=1, addon="odoo_dev_mcp_legacy")
    new = sim.add_server("new", workers=2)
    old.start()
    new.start()
    sim.advance_minutes(3)

    slim = posts(sim, "heartbeat", server="old")
    assert len(slim) == 3 and all(set(h["body"]) == {"server_id", "status", "timestamp"} for h in slim)
    enriched = posts(sim, "heartbeat", server="new")
    assert len(enriched) == 3
    for heartbeat in enriched:
        check_payload(heartbeat["body"], HEARTBEAT_FIELDS, hostname=new.hostname)

    old_record = _receiver_record(receiver, old.server_id)
    registered = posts(sim, "register", server="old")[0]["body"]
    for name in ("hostname", "ip_addresses", "port", "transport", "version", "odoo_version",
                 "database", "capabilities"):
        assert old_record[name] == registered[name], name
    assert old_record["heartbeat_count"] == 3
    new_record = _receiver_record(receiver, new.server_id)
    last = enriched[-1]["body"]
    for name in ("hostname", "ip_addresses", "capabilities", "odoo_stage", "uptime_seconds"):
        assert new_record[name] == last[name], name
    assert new_record["heartbeat_count"] == 3
    _assert_nothing_broke(sim)


# 6 -----------------------------------------------------------------------------------------------
def test_uptime_and_timestamps_of_heartbeats_60_simulated_seconds_apart(receiver, make_sim):
    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=2)
    prod.start()
    sim.advance_minutes(2)

    first, second = (h["body"] for h in posts(sim, "heartbeat", gen=0))
    assert second["uptime_seconds"] - first["uptime_seconds"] == pytest.approx(60.0, abs=1e-6)
    assert iso_epoch(second["timestamp"]) - iso_epoch(first["timestamp"]) == 60
    assert first["uptime_seconds"] == 60.0  # the addon was imported at the install, at START
    assert iso_epoch(first["timestamp"]) == START + 60
    started_at = posts(sim, "register", gen=0)[0]["body"]["started_at"]
    assert iso_epoch(started_at) == START
    record = _receiver_record(receiver, prod.server_id)
    assert record["uptime_seconds"] == second["uptime_seconds"]
    assert record["reported_at"] == second["timestamp"]

    sim.advance(30)
    prod.rebuild()  # a new container: a new process, a new start time
    sim.advance_minutes(1)
    (after,) = (h["body"] for h in posts(sim, "heartbeat", gen=1))
    assert after["uptime_seconds"] == 60.0
    _assert_nothing_broke(sim)


# other modelled cases ----------------------------------------------------------------------------
def test_recycled_workers_keep_the_preloaded_start_time_and_do_not_register_again(receiver, make_sim):
    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=2)
    prod.start()
    prod.health_burst(4)
    sim.advance_minutes(1)
    old_pids = dict(prod.pids)
    prod.recycle_worker(0)
    prod.recycle_worker("cron", hard=True)
    assert len(events_of(sim, "worker_recycled")) == 2
    assert prod.health_burst(4).all_ok
    sim.advance_minutes(1)

    uptimes = [h["body"]["uptime_seconds"] for h in posts(sim, "heartbeat")]
    assert uptimes == [60.0, 120.0]  # the new cron worker forked from the preloaded master
    assert len(posts(sim, "register")) == 1
    assert {e["worker_pid"] for e in events_of(sim, "worker_started")} > set(old_pids.values())
    _assert_nothing_broke(sim)


def test_without_preload_each_worker_imports_the_addon_itself(receiver, make_sim):
    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=2, preload=False)
    prod.start()
    sim.advance(20)
    prod.health_burst(2)
    sim.advance_minutes(2)

    uptimes = [h["body"]["uptime_seconds"] for h in posts(sim, "heartbeat")]
    # The cron worker imported the addon at its first run, not when the server started.
    assert uptimes == [0.0, 60.0]
    assert len(posts(sim, "register")) == 1
    _assert_nothing_broke(sim)


def test_staging_copy_registers_its_own_hostname_and_its_crons_are_off(receiver, make_sim):
    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=2)
    prod.start()
    sim.advance_minutes(1)
    staging = prod.staging_copy("staging")
    staging.start()
    staging.health_burst(3)
    sim.advance_minutes(2)

    register = posts(sim, "register", server="staging")
    assert len(register) == 1 and register[0]["ok"]
    check_payload(register[0]["body"], REGISTER_FIELDS, hostname=staging.hostname, stage="staging")
    assert register[0]["body"]["database"] == staging.dbname != prod.dbname
    assert posts(sim, "heartbeat", server="staging") == []  # neutralized: no cron
    assert len(posts(sim, "heartbeat", server="prod")) == 3
    record = _receiver_record(receiver, staging.server_id)
    assert record["odoo_stage"] == "staging"
    _assert_nothing_broke(sim)


def test_worker_killed_mid_registration_blocks_the_hostname_for_the_lease_only(recorder, make_sim):
    """A background thread dies with its worker: the claim it held expires (60 s lease), then a
    later trigger registers. The killed POST may still have reached the receiver: at least once."""
    sim = make_sim(recorder.url)
    prod = sim.add_server("prod", workers=2)
    prod.start()
    sim.advance(30)
    prod.rebuild()
    rebuilt_at = sim.now()
    hostname = prod.hostname

    def registers():
        return [r for r in recorder.requests
                if r["path"] == "/register" and r["body"]["hostname"] == hostname]

    recorder.register_delay = 2.0  # below the addon's 3 s read timeout
    prod.health_burst(1, wait=False)
    assert wait_until(registers, 10), "the registration never reached the endpoint"
    (thread,) = events_of(sim, "thread_started", gen=1, name="mcp-register-health")
    (worker,) = [name for name, pid in prod.pids.items() if pid == thread["pid"]]
    prod.recycle_worker(int(worker.split("-")[1]), hard=True)  # Odoo's time limit: SIGKILL
    prod.quiesce()
    recorder.register_delay = 0.0

    sim.advance(30)
    assert prod.health_burst(4).all_ok
    assert len(registers()) == 1  # the dead worker's claim still holds the hostname

    sim.advance_minutes(1)  # rebuilt_at + 90: the 60 s lease has expired, the cron registers
    assert len(registers()) == 2
    (acknowledged,) = [r for r in posts(sim, "register", gen=1) if r["ok"]]
    assert acknowledged["role"] == "cron" and acknowledged["sim"] == rebuilt_at + 90
    kinds = [r["path"] for r in recorder.requests if r["body"]["hostname"] == hostname]
    assert kinds == ["/register", "/register", "/heartbeat"]


def test_a_crashed_worker_is_replaced_and_breaks_the_run(receiver, make_sim):
    import os
    import signal

    sim = make_sim(receiver.url)
    prod = sim.add_server("prod", workers=2)
    prod.start()
    os.kill(prod.pids["http-1"], signal.SIGKILL)  # not a recycle: nobody asked for it
    assert wait_until(lambda: events_of(sim, "worker_died"), 10)
    assert prod.health_burst(4).all_ok  # Odoo's master replaced it
    sim.advance_minutes(1)
    problems = sim.report()["summary"]["problems"]
    assert len(problems) == 1 and "worker_died http-1" in problems[0]


def test_negative_control_a_naive_addon_registers_once_per_racing_worker(receiver, make_sim):
    """The seed's read-then-write design (tests/simulators/addons/mcp_naive): the simulators must
    see its race, or exactly-once results above would mean nothing."""
    sim = make_sim(receiver.url)
    naive = sim.add_server("naive", workers=4, addon="mcp_naive")
    naive.start()
    counts = []
    for _ in range(2):
        sim.advance(30)
        naive.rebuild()
        naive.health_burst(8)
        counts.append(len([r for r in posts(sim, "register", gen=naive.generation) if r["ok"]]))
    assert max(counts) > 1, counts


def test_get_json_reads_the_receiver(receiver):
    assert get_json(receiver.url + "/health")["status"] == "ok"
