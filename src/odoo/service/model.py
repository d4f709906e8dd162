"""``retrying`` (odoo/service/model.py): replay a unit of work on
concurrency errors, at most 5 times, with Odoo's randomised back-off."""
import logging
import random
import time

import psycopg2
import psycopg2.errors
from psycopg2 import IntegrityError, OperationalError

from ..exceptions import ValidationError

_logger = logging.getLogger(__name__)

MAX_TRIES_ON_CONCURRENCY_FAILURE = 5
# exception classes rather than pgcodes: the simulator's SQLite backend
# raises instances it creates, whose pgcode is None
CONCURRENCY_ERRORS_TO_RETRY = (
    psycopg2.errors.LockNotAvailable,
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
)


def _as_validation_error(env, exc):
    if isinstance(exc, psycopg2.errors.NotNullViolation):
        return ValidationError(f"The operation cannot be completed: {exc.args[0]}" if exc.args else exc)
    if isinstance(exc, psycopg2.errors.UniqueViolation):
        return ValidationError("The operation cannot be completed: %s" % (exc.args[0] if exc.args else exc))
    return ValidationError("The operation cannot be completed: %s" % (exc.args[0] if exc.args else exc))


def _sleep(tryno):
    time.sleep(random.uniform(0.0, 2 ** tryno))


def retrying(func, env):
    from ..http import request
    try:
        for tryno in range(1, MAX_TRIES_ON_CONCURRENCY_FAILURE + 1):
            tryleft = MAX_TRIES_ON_CONCURRENCY_FAILURE - tryno
            try:
                result = func()
                if not env.cr._closed:
                    env.cr.flush()
                break
            except (IntegrityError, OperationalError) as exc:
                if env.cr._closed:
                    raise
                env.cr.rollback()
                env.reset()
                env.registry.reset_changes()
                if request:
                    for filename, file in request.httprequest.files.items():
                        if hasattr(file, "seekable") and file.seekable():
                            file.seek(0)
                        else:
                            raise RuntimeError(
                                f"Cannot retry request on input file {filename!r} after serialization failure"
                            ) from exc
                if isinstance(exc, IntegrityError):
                    raise _as_validation_error(env, exc) from exc
                if not isinstance(exc, CONCURRENCY_ERRORS_TO_RETRY):
                    raise
                if not tryleft:
                    _logger.info("%s, maximum number of tries reached!", type(exc).__name__)
                    raise
                _logger.info("%s, %s tries left, try again...", type(exc).__name__, tryleft)
                _sleep(tryno)
        else:
            raise RuntimeError("unreachable")
    except Exception:
        env.reset()
        env.registry.reset_changes()
        raise
    if not env.cr.closed:
        env.cr.commit()
    env.registry.signal_changes()
    return result
