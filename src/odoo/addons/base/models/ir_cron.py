"""Scheduled actions, after odoo/addons/base/models/ir_cron.py.

``ir.cron._process_jobs(db_name)`` runs the jobs that are due: each job is
locked (PostgreSQL: ``FOR NO KEY UPDATE SKIP LOCKED`` in the cron cursor,
exactly like Odoo; SQLite: a lease row in ``sim_cron_lock`` owned by a live
process, then a re-check of the job in a fresh snapshot), its ``code`` is
evaluated with ``model``/``env`` in a cursor of its own and with the job's
user, then ``nextcall``/``lastcall`` are updated.  17.0 has ``numbercall`` /
``doall`` (default numbercall=1: the job runs once, then deactivates);
18.0/19.0 have ``failure_count`` / ``first_failure_date`` (deactivation after
5 failures over 7 days) and refuse ``interval_number <= 0``.  Time is
Python's (``cr.now()``), so freezegun drives the scheduler.

Not simulated: ir.actions.server (the cron holds name/model_id/state/code
itself), progress reporting (19.0 ``_commit_progress``), cron workers.
"""
import calendar
import datetime
import logging
import os
import threading
import time
from datetime import timedelta

import psycopg2
import psycopg2.errors
import psycopg2.extensions

import odoo
from odoo import api, fields, models, release, sql_db
from odoo.exceptions import UserError
from odoo.tools.safe_eval import safe_eval

_logger = logging.getLogger(__name__)

V = release.SERIE_MAJOR
BASE_VERSION = odoo.modules.get_manifest('base')['version']
MAX_FAIL_TIME = timedelta(hours=5)
MIN_FAILURE_COUNT_BEFORE_DEACTIVATION = 5
MIN_DELTA_BEFORE_DEACTIVATION = timedelta(days=7)


class BadVersion(Exception):
    pass


class BadModuleState(Exception):
    pass


def _add_months(value, months):
    month = value.month - 1 + months
    year = value.year + month // 12
    month = month % 12 + 1
    day = min(value.day, calendar.monthrange(year, month)[1])
    return value.replace(year=year, month=month, day=day)


def _add_interval(value, interval_type, number):
    if interval_type == 'never':
        return value.replace(year=2099)
    if number <= 0:
        # real 17.0 would loop forever here; refuse instead of hanging
        raise ValueError("The interval number must be a strictly positive number.")
    if interval_type == 'months':
        return _add_months(value, number)
    unit = {'minutes': timedelta(minutes=1), 'hours': timedelta(hours=1),
            'days': timedelta(days=1), 'weeks': timedelta(weeks=1)}[interval_type]
    return value + number * unit


_INTERVAL_TYPES = [('minutes', 'Minutes'), ('hours', 'Hours'), ('days', 'Days'),
                   ('weeks', 'Weeks'), ('months', 'Months')]
if V >= 19:
    _INTERVAL_TYPES.append(('never', 'Never'))


def _pid_alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class IrCron(models.Model):
    _name = "ir.cron"
    _order = 'cron_name, id'
    _description = 'Scheduled Actions'

    name = fields.Char(required=True)
    cron_name = fields.Char('Name', readonly=True)
    model_id = fields.Many2one('ir.model', string='Model', required=True, ondelete='cascade')
    state = fields.Selection([
        ('object_write', 'Update Record'),
        ('object_create', 'Create Record'),
        ('code', 'Execute Code'),
        ('multi', 'Execute Existing Actions'),
    ], string='Type', default='code', required=True)
    code = fields.Text(string='Python Code')
    usage = fields.Char(default='ir_cron')
    user_id = fields.Many2one('res.users', string='Scheduler User', default=lambda self: self.env.user,
                              required=True)
    active = fields.Boolean(default=True)
    interval_number = fields.Integer(default=1, help="Repeat every x.", required=V >= 18)
    interval_type = fields.Selection(_INTERVAL_TYPES, string='Interval Unit', default='months',
                                     required=V >= 18)
    nextcall = fields.Datetime(string='Next Execution Date', required=True, default=fields.Datetime.now)
    lastcall = fields.Datetime(string='Last Execution Date')
    priority = fields.Integer(default=5)
    if V == 17:
        numbercall = fields.Integer(
            string='Number of Calls', default=1,
            help='How many times the method is called,\na negative number indicates no limit.')
        doall = fields.Boolean(string='Repeat Missed')
    else:
        failure_count = fields.Integer(default=0)
        first_failure_date = fields.Datetime(string='First Failure Date')
        _sql_constraints = [
            ('check_strictly_positive_interval', 'CHECK(interval_number > 0)',
             'The interval number must be a strictly positive number.'),
        ]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            vals['usage'] = 'ir_cron'
            if 'name' in vals:
                vals['cron_name'] = vals['name']
        return super().create(vals_list)

    def write(self, vals):
        self._try_lock()
        if 'name' in vals:
            vals = dict(vals, cron_name=vals['name'])
        return super().write(vals)

    def unlink(self):
        self._try_lock()
        return super().unlink()

    def _try_lock(self):
        """Refuse to modify a job another worker is running."""
        if not self:
            return
        cr = self.env.cr
        busy = False
        if cr.backend == 'postgresql':
            try:
                with cr.savepoint(flush=False):
                    cr.execute('SELECT id FROM ir_cron WHERE id IN %s FOR NO KEY UPDATE NOWAIT',
                               [tuple(self.ids)], log_exceptions=False)
            except psycopg2.OperationalError:
                busy = True
        else:
            owner = f'{os.getpid()}:{threading.get_ident()}'
            rows = sql_db.autocommit_execute(
                cr.dbname, "SELECT pid, owner FROM sim_cron_lock WHERE cron_id IN %s",
                [tuple(self.ids)]) if self._sim_lock_table(cr) else []
            busy = any(o != owner and _pid_alive(pid) for pid, o in rows)
        if busy:
            raise UserError("Record cannot be modified right now: "
                            "This cron task is currently being executed and may not be modified "
                            "Please try again in a few minutes")

    # ------------------------------------------------------------------
    # scheduler
    # ------------------------------------------------------------------
    @classmethod
    def _process_jobs(cls, db_name):
        """Execute every job ready to be run on this database."""
        try:
            db = sql_db.db_connect(db_name)
            threading.current_thread().dbname = db_name
            with db.cursor() as cron_cr:
                cls._check_version(cron_cr)
                jobs = cls._get_all_ready_jobs(cron_cr)
                if not jobs:
                    return
                cls._check_modules_state(cron_cr, jobs)
                for job_id in [job['id'] for job in jobs]:
                    try:
                        job = cls._acquire_one_job(cron_cr, job_id)
                    except psycopg2.extensions.TransactionRollbackError:
                        cron_cr.rollback()
                        _logger.debug("job %s has been processed by another worker, skip", job_id)
                        continue
                    if not job:
                        _logger.debug("another worker is processing job %s, skip", job_id)
                        continue
                    registry = odoo.modules.registry.Registry(db_name).check_signaling()
                    registry[cls._name]._process_job(cron_cr, job)
        except BadVersion:
            _logger.warning('Skipping database %s as its base version is not %s.', db_name, BASE_VERSION)
        except BadModuleState:
            _logger.warning('Skipping database %s because of modules to install/upgrade/remove.', db_name)
        except psycopg2.errors.UndefinedTable:
            _logger.warning('Tried to poll an undefined table on database %s.', db_name)
        except Exception:
            _logger.warning('Exception in cron:', exc_info=True)
        finally:
            if hasattr(threading.current_thread(), 'dbname'):
                del threading.current_thread().dbname

    @classmethod
    def _check_version(cls, cron_cr):
        cron_cr.execute("SELECT latest_version FROM ir_module_module WHERE name = 'base'")
        (version,) = cron_cr.fetchone()
        if version is None:
            raise BadModuleState()
        if version != BASE_VERSION:
            raise BadVersion()

    @classmethod
    def _check_modules_state(cls, cr, jobs):
        cr.execute("SELECT COUNT(*) FROM ir_module_module WHERE state LIKE %s", ['to %'])
        (changes,) = cr.fetchone()
        if not changes:
            return
        oldest = min(job['nextcall'] for job in jobs)
        if datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - oldest < MAX_FAIL_TIME:
            raise BadModuleState()
        odoo.modules.reset_modules_state(cr.dbname)

    @classmethod
    def _ready_condition(cls, cr):
        now = cr.now()
        extra = " AND numbercall != 0" if V == 17 else ""
        return (f"""active = TRUE{extra}
                AND (nextcall <= %s OR id IN (SELECT cron_id FROM ir_cron_trigger WHERE call_at <= %s))""",
                [now, now])

    @classmethod
    def _get_all_ready_jobs(cls, cr):
        condition, params = cls._ready_condition(cr)
        order = "priority" if V == 17 else "failure_count, priority, id"
        cr.execute(f"SELECT * FROM ir_cron WHERE {condition} ORDER BY {order}", params)
        return cr.dictfetchall()

    @classmethod
    def _sim_lock_table(cls, cr):
        rows = sql_db.autocommit_execute(
            cr.dbname, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sim_cron_lock'")
        return bool(rows)

    @classmethod
    def _sim_lease(cls, cr, job_id):
        sql_db.autocommit_execute(cr.dbname, """CREATE TABLE IF NOT EXISTS sim_cron_lock (
            cron_id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, owner VARCHAR NOT NULL)""")
        owner = f'{os.getpid()}:{threading.get_ident()}'
        for _attempt in range(2):
            try:
                sql_db.autocommit_execute(
                    cr.dbname, "INSERT INTO sim_cron_lock (cron_id, pid, owner) VALUES (%s, %s, %s)",
                    [job_id, os.getpid(), owner])
                return True
            except psycopg2.errors.UniqueViolation:
                rows = sql_db.autocommit_execute(
                    cr.dbname, "SELECT pid FROM sim_cron_lock WHERE cron_id = %s", [job_id])
                if rows and _pid_alive(rows[0][0]):
                    return False
                # the holder died: its lease is void, like a dead backend's row lock
                sql_db.autocommit_execute(cr.dbname, "DELETE FROM sim_cron_lock WHERE cron_id = %s", [job_id])
        return False

    @classmethod
    def _sim_release(cls, cr, job_id):
        sql_db.autocommit_execute(cr.dbname, "DELETE FROM sim_cron_lock WHERE cron_id = %s AND pid = %s",
                                  [job_id, os.getpid()])

    @classmethod
    def _acquire_one_job(cls, cr, job_id):
        condition, params = cls._ready_condition(cr)
        if cr.backend == 'postgresql':
            cr.execute(f"SELECT * FROM ir_cron WHERE {condition} AND id = %s FOR NO KEY UPDATE SKIP LOCKED",
                       params + [job_id], log_exceptions=False)
            return cr.dictfetchone()
        if not cls._sim_lease(cr, job_id):
            return None
        # the lease is the lock; start a snapshot that sees what the
        # previous holder committed (PostgreSQL would skip/serialize)
        cr.commit()
        condition, params = cls._ready_condition(cr)
        cr.execute(f"SELECT * FROM ir_cron WHERE {condition} AND id = %s", params + [job_id])
        job = cr.dictfetchone()
        if not job:
            cls._sim_release(cr, job_id)
        return job

    @classmethod
    def _process_job(cls, cron_cr, job):
        """Run one acquired job and reschedule it; commits ``cron_cr``."""
        try:
            if V == 17:
                cls._sim_process_job_17(cron_cr, job)
            else:
                cls._sim_process_job_18(cron_cr, job)
        finally:
            if cron_cr.backend == 'sqlite':
                cls._sim_release(cron_cr, job['id'])

    @classmethod
    def _sim_process_job_17(cls, cron_cr, job):
        now = cron_cr.now().replace(microsecond=0)
        with cls.pool.cursor() as job_cr:
            env = api.Environment(job_cr, job['user_id'], {'lastcall': job['lastcall']})
            ir_cron = env[cls._name]
            missed_call = job['nextcall']
            missed_call_count = 0
            while missed_call <= now:
                missed_call = _add_interval(missed_call, job['interval_type'], job['interval_number'])
                missed_call_count += 1
            future_nextcall = missed_call
            effective_call_count = (
                1 if not missed_call_count
                else 1 if not job['doall']
                else missed_call_count if job['numbercall'] == -1
                else min(missed_call_count, job['numbercall'])
            )
            call_count_left = max(job['numbercall'] - effective_call_count, -1)
            for _call in range(effective_call_count):
                ir_cron._callback(job['cron_name'], job['id'], job['id'])
        if cron_cr.backend == 'sqlite':
            cron_cr.commit()  # fresh snapshot: the job committed meanwhile
        cron_cr.execute("""
            UPDATE ir_cron SET nextcall = %s, numbercall = %s, lastcall = %s, active = %s
             WHERE id = %s""",
            [future_nextcall, call_count_left, now, bool(job['active'] and call_count_left), job['id']])
        cron_cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s AND call_at < %s", [job['id'], now])
        cron_cr.commit()

    @classmethod
    def _sim_process_job_18(cls, cron_cr, job):
        now = cron_cr.now().replace(microsecond=0)
        with cls.pool.cursor() as job_cr:
            env = api.Environment(job_cr, job['user_id'], {'lastcall': job['lastcall'], 'cron_id': job['id']})
            success = env[cls._name]._callback(job['cron_name'], job['id'], job['id'])
        if cron_cr.backend == 'sqlite':
            cron_cr.commit()
        cron_cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s", [job['id'], now])
        failure_count, first_failure_date, active = 0, None, job['active']
        if not success:
            failure_count = (job['failure_count'] or 0) + 1
            first_failure_date = job['first_failure_date'] or now
            if (failure_count >= MIN_FAILURE_COUNT_BEFORE_DEACTIVATION
                    and first_failure_date + MIN_DELTA_BEFORE_DEACTIVATION < now):
                failure_count, first_failure_date, active = 0, None, False
                _logger.warning("Cron job %r (%s) has been deactivated after failing %s times.",
                                job['cron_name'], job['id'], MIN_FAILURE_COUNT_BEFORE_DEACTIVATION)
        nextcall = job['nextcall']
        while nextcall <= now:
            nextcall = _add_interval(nextcall, job['interval_type'], job['interval_number'])
        cron_cr.execute("""
            UPDATE ir_cron SET failure_count = %s, first_failure_date = %s, active = %s,
                               nextcall = %s, lastcall = %s
             WHERE id = %s""", [failure_count, first_failure_date, bool(active), nextcall, now, job['id']])
        cron_cr.commit()

    def _callback(self, cron_name, server_action_id, job_id=None):
        job_id = job_id or server_action_id
        try:
            _logger.info('Starting job `%s`.', cron_name)
            self._sim_run_code(job_id)
            self.env.flush_all()
            self.env.cr.commit()
            _logger.info('Job `%s` done.', cron_name)
            self.pool.signal_changes()
            return True
        except Exception:
            self.pool.reset_changes()
            _logger.exception("Call from cron %s for server action #%s failed in Job #%s",
                              cron_name, server_action_id, job_id)
            self.env.cr.rollback()
            return False

    def _sim_run_code(self, job_id):
        cron = self.sudo().browse(job_id)
        if cron.state != 'code':
            raise NotImplementedError(f"ir.cron state {cron.state!r} is not simulated")
        model = self.env[cron.model_id.model]

        def log(message, level='info'):
            _logger.log(getattr(logging, level.upper(), logging.INFO), message)

        eval_context = {
            'env': self.env, 'model': model, 'uid': self.env.uid, 'user': self.env.user,
            'time': time, 'datetime': datetime, 'log': log, '_logger': _logger,
            'UserError': UserError, 'record': None, 'records': model.browse(),
        }
        safe_eval((cron.code or '').strip(), eval_context, mode='exec', nocopy=True)

    def method_direct_trigger(self):
        self.check_access_rights('write')
        for cron in self:
            cron.with_user(cron.user_id).with_context(lastcall=cron.lastcall)._sim_run_code(cron.id)
            cron.lastcall = fields.Datetime.now()
        return True

    def _trigger(self, at=None):
        if at is None:
            at_list = [fields.Datetime.now()]
        elif isinstance(at, datetime.datetime):
            at_list = [at]
        else:
            at_list = list(at)
            assert all(isinstance(a, datetime.datetime) for a in at_list)
        return self._trigger_list(at_list)

    def _trigger_list(self, at_list):
        self.ensure_one()
        now = fields.Datetime.now()
        if not self.sudo().active:
            at_list = [at for at in at_list if at > now]
        if not at_list:
            return self.env['ir.cron.trigger']
        return self.env['ir.cron.trigger'].sudo().create([
            {'cron_id': self.id, 'call_at': at} for at in at_list
        ])


class IrCronTrigger(models.Model):
    _name = 'ir.cron.trigger'
    _description = 'Triggered actions'
    _rec_name = 'cron_id'

    cron_id = fields.Many2one("ir.cron", index=True)
    call_at = fields.Datetime()
