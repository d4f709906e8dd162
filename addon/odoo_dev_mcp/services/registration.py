"""Exactly-once registration of a new hostname, across every worker of a prefork Odoo.

`mcp.last_hostname` holds the hostname the receiver was last *successfully* told about. When a
worker sees another hostname (an Odoo.sh rebuild, a fresh install) it must win a claim before it
registers, so N workers that notice at the same moment send one registration:

    mcp.registration_claim = "<expiry epoch, 12 digits><state><hostname>"
    state " ": a worker is registering this hostname; "+": its attempt failed, retry after expiry

The claim is one compare-and-set UPDATE in its own short transaction: it succeeds only if no live
claim for this hostname exists and the hostname is not reported yet. Under REPEATABLE READ a
concurrent winner makes the loser's UPDATE fail with SerializationFailure, or match no row:
either way it lost. The claim is committed before the network call (no lock is held while we
wait on the receiver), and it is a lease: a worker that dies mid-registration (recycled, killed)
blocks the hostname for CLAIM_LEASE_SECONDS at most.

After the POST, one transaction either records success (`mcp.last_hostname` = hostname through
`set_param`, which clears the get_param cache of every worker) or turns the claim into a back-off
(expiry now + RETRY_AFTER_SECONDS) so a later health request or cron run tries again.
"""

import logging
import random
import threading
import time

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry

from . import phone_home

_logger = logging.getLogger(__name__)

LAST_HOSTNAME_KEY = "mcp.last_hostname"
CLAIM_KEY = "mcp.registration_claim"
# Longer than register_server's whole budget, so a live claim never expires under its owner.
CLAIM_LEASE_SECONDS = 60
RETRY_AFTER_SECONDS = 30
REGISTERING = " "
BACKING_OFF_MARK = "+"
UNCLAIMED = f"{0:012d}{REGISTERING}-"
NEVER_REPORTED = "-"  # no hostname is "-": the initial value of mcp.last_hostname
POLL_SECONDS = 0.2
CLAIM_TRIES = 5

# A concurrent transaction holds or changed the row: someone else won this round.
_LOST_RACE = (pg_errors.SerializationFailure, pg_errors.LockNotAvailable,
              pg_errors.DeadlockDetected)

ALREADY_REPORTED = "already_reported"
REGISTERED = "registered"
FAILED = "failed"
IN_FLIGHT = "in_flight"  # another worker is registering this hostname right now
BACKING_OFF = "backing_off"  # a recent attempt failed; the next one waits RETRY_AFTER_SECONDS

_CLAIM_SQL = """
    UPDATE ir_config_parameter
       SET value = %s, write_date = now() at time zone 'UTC'
     WHERE key = %s
       AND (substr(value, 1, 12) < %s OR substr(value, 14) <> %s)
       AND NOT EXISTS (SELECT 1 FROM ir_config_parameter
                        WHERE key = %s AND value = %s)
 RETURNING id
"""

_SET_CLAIM_SQL = """
    UPDATE ir_config_parameter
       SET value = %s, write_date = now() at time zone 'UTC'
     WHERE key = %s AND value = %s
"""


def _epoch12(moment: float) -> str:
    return f"{int(moment):012d}"


def _claim_value(expiry: float, hostname: str, state: str = REGISTERING) -> str:
    return f"{_epoch12(expiry)}{state}{hostname}"


def _transaction(registry, work):
    """`work(env)` (superuser) in a short transaction of its own; again on a fresh snapshot after
    a serialization failure, which only says that another transaction touched the same row.
    Returns work's result, or None after CLAIM_TRIES conflicts."""
    for attempt in range(CLAIM_TRIES):
        try:
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                result = work(env)
                # Odoo flushes pending ORM writes at commit only through environments still
                # alive (a WeakSet): flush while ours surely is, or a set_param may vanish.
                env.flush_all()
                return result
        except _LOST_RACE:
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    return None


def hostname_needs_report(env, hostname: str) -> bool:
    """The cheap check: cached get_param reads only. True when a registration should be tried."""
    if not phone_home.receiver_url(env):
        return False
    return env["ir.config_parameter"].sudo().get_param(LAST_HOSTNAME_KEY) != hostname


def ensure_parameters(env):
    """Create the keys the addon writes, so no two workers ever race to create them."""
    icp = env["ir.config_parameter"].sudo()
    for key, initial in ((LAST_HOSTNAME_KEY, NEVER_REPORTED), (CLAIM_KEY, UNCLAIMED)):
        if not icp.search([("key", "=", key)]):
            icp.set_param(key, initial)


def forget_all_parameters(env):
    """Every `mcp.*` system parameter, the receiver's token included (uninstall)."""
    env["ir.config_parameter"].sudo().search([("key", "=like", "mcp.%")]).unlink()


def forget_reported_hostname(env):
    """The receiver changed: it has never heard of us, so the next trigger registers again."""
    env["ir.config_parameter"].sudo().set_param(LAST_HOSTNAME_KEY, NEVER_REPORTED)


def _try_claim(registry, hostname: str) -> str | None:
    """The compare-and-set. Returns the claim value we now hold, or None if we lost: on a fresh
    snapshot a live claim or a reported hostname makes the UPDATE match nothing."""

    def claim(env):
        cr = env.cr
        now = time.time()
        value = _claim_value(now + CLAIM_LEASE_SECONDS, hostname)
        # Losing this race is normal: a SerializationFailure must not be logged as a bad query.
        cr.execute(_CLAIM_SQL, (value, CLAIM_KEY, _epoch12(now), hostname,
                                LAST_HOSTNAME_KEY, hostname), log_exceptions=False)
        if cr.fetchall():
            return value
        cr.execute("SELECT 1 FROM ir_config_parameter WHERE key = %s", (CLAIM_KEY,))
        if not cr.fetchall():
            # Someone deleted the key in System Parameters: recreate it, lose this round.
            ensure_parameters(env)
        return None

    return _transaction(registry, claim)


def _finish(registry, hostname: str, claim: str, succeeded: bool):
    """Record the outcome of our claim in one transaction. Given up after repeated conflicts,
    the lease still expires and a later trigger registers again."""
    if succeeded:
        released = _claim_value(0, hostname)
    else:
        released = _claim_value(time.time() + RETRY_AFTER_SECONDS, hostname, BACKING_OFF_MARK)

    def record(env):
        env.cr.execute(_SET_CLAIM_SQL, (released, CLAIM_KEY, claim), log_exceptions=False)
        if succeeded:
            env["ir.config_parameter"].set_param(LAST_HOSTNAME_KEY, hostname)

    _transaction(registry, record)
    # Tell the other workers their cached get_param values are stale (Odoo does this at the end
    # of a request or cron job; this transaction belongs to neither). While the registry loads
    # (install, update) Odoo refuses with a warning and signals once loaded anyway.
    if registry.ready:
        registry.signal_changes()


def _read_state(registry, hostname: str) -> str:
    """Why a claim was not ours: ALREADY_REPORTED, IN_FLIGHT or BACKING_OFF."""
    with registry.cursor() as cr:
        cr.execute("SELECT key, value FROM ir_config_parameter WHERE key IN (%s, %s)",
                   (LAST_HOSTNAME_KEY, CLAIM_KEY))
        values = dict(cr.fetchall())
    if values.get(LAST_HOSTNAME_KEY) == hostname:
        return ALREADY_REPORTED
    claim = values.get(CLAIM_KEY) or UNCLAIMED
    if claim[12:13] == BACKING_OFF_MARK and claim[13:] == hostname:
        return BACKING_OFF
    return IN_FLIGHT


def ensure_registered(dbname: str, hostname: str, trigger: str) -> str:
    """Register `hostname` unless it is reported or another worker is on it. Own cursors only.

    Returns ALREADY_REPORTED, REGISTERED, FAILED, IN_FLIGHT or BACKING_OFF. Never raises for a
    database race.
    """
    registry = Registry(dbname)
    claim = _try_claim(registry, hostname)
    if claim is None:
        return _read_state(registry, hostname)
    succeeded = False
    try:
        with registry.cursor() as cr:
            succeeded = phone_home.register_server(api.Environment(cr, SUPERUSER_ID, {}))
    finally:
        _finish(registry, hostname, claim, succeeded)
    _logger.info("MCP hostname %s: registration from %s %s", hostname, trigger,
                 "succeeded" if succeeded else "failed, will be retried")
    return REGISTERED if succeeded else FAILED


def wait_until_settled(dbname: str, hostname: str, timeout: float) -> bool:
    """Wait (bounded) for another worker's in-flight registration; True if it succeeded."""
    registry = Registry(dbname)
    # Counted polls, not a clock deadline: under frozen time (simulators, tests) a deadline on
    # time.monotonic() would never arrive.
    for _poll in range(max(1, int(timeout / POLL_SECONDS))):
        state = _read_state(registry, hostname)
        if state != IN_FLIGHT:
            return state == ALREADY_REPORTED
        time.sleep(POLL_SECONDS)
    return False


# ---------------------------------------------------------------- background runs

_in_flight: set[tuple[str, str]] = set()
_in_flight_lock = threading.Lock()


def _running_tests(dbname: str) -> bool:
    """Odoo runs tests: then a thread must not open cursors and post-commit hooks never run.

    current_test is only set for at_install tests; HttpCase puts the registry in test mode (its
    requests share the test cursor); the test runner's own thread is marked `testing`.
    """
    from odoo.modules import module as odoo_module
    if getattr(odoo_module, "current_test", None):
        return True
    if getattr(threading.current_thread(), "testing", False):
        return True
    in_test_mode = getattr(Registry(dbname), "in_test_mode", None)
    return bool(in_test_mode and in_test_mode())


def _run_in_background(dbname: str, hostname: str, trigger: str):
    threading.current_thread().dbname = dbname  # Odoo's logging and cursors look for it
    try:
        ensure_registered(dbname, hostname, trigger)
    except psycopg2.Error:
        _logger.warning("MCP registration from %s could not reach the database", trigger,
                        exc_info=True)
    except Exception:
        _logger.exception("MCP registration from %s crashed", trigger)
    finally:
        with _in_flight_lock:
            _in_flight.discard((dbname, hostname))


def start_registration(dbname: str, hostname: str, trigger: str, background: bool = True) -> bool:
    """Run ensure_registered in a daemon thread, or inline (not in background, or under Odoo's
    test mode).

    Takes plain values only: the thread opens its own cursor and never sees a request's env.
    At most one run per database and hostname per process at a time.
    """
    key = (dbname, hostname)
    with _in_flight_lock:
        if key in _in_flight:
            return False
        _in_flight.add(key)
    if not background or _running_tests(dbname):
        _run_in_background(dbname, hostname, trigger)
        return True
    thread = threading.Thread(target=_run_in_background, args=(dbname, hostname, trigger),
                              name=f"mcp-register-{trigger}", daemon=True)
    thread.start()
    return True


def schedule_after_commit(env, trigger: str, background: bool = True) -> bool:
    """If the hostname needs reporting, register once the current transaction commits.

    Nothing is written and nothing leaves the process here; a rolled-back or replayed request
    drops the callback with the rest of its work. `background=False` registers inside the
    post-commit callback itself: for the install, whose process may exit right after
    (`odoo-bin -i ... --stop-after-init` would kill a daemon thread mid-call).
    """
    hostname = phone_home.get_server_hostname()
    if not hostname_needs_report(env, hostname):
        return False
    dbname = env.cr.dbname
    if _running_tests(dbname):
        # Odoo's TestCursor drops post-commit callbacks; there is no commit to wait for anyway.
        start_registration(dbname, hostname, trigger, background)
    else:
        env.cr.postcommit.add(lambda: start_registration(dbname, hostname, trigger, background))
    return True
