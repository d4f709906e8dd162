"""ir.cron._process_jobs with freezegun, locking and failures."""
import datetime
import logging
import multiprocessing

from freezegun import freeze_time

from odoo import api, release
from odoo.addons.base.models.ir_cron import IrCron

CTX = multiprocessing.get_context('fork')
T0 = datetime.datetime(2030, 1, 1, 12, 0, 0)


def _setup_job(registry, xmlid, **vals):
    with registry.cursor() as cr:
        env = api.Environment(cr, 1, {})
        job = env.ref(xmlid)
        job.write({'active': True, 'nextcall': T0, **vals})
        return job.id


def _read(registry, job_id, fields):
    with registry.cursor() as cr:
        return api.Environment(cr, 1, {})['ir.cron'].browse(job_id).read(fields)[0]


def _param(registry, key):
    with registry.cursor() as cr:
        cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [key])
        row = cr.fetchone()
        return row and row[0]


def test_due_jobs_run_with_their_user_and_are_rescheduled(registry):
    extra = {'numbercall': -1} if release.SERIE_MAJOR == 17 else {}
    job_id = _setup_job(registry, 'sim_good.ir_cron_heartbeat', **extra)
    with freeze_time(T0 - datetime.timedelta(seconds=30)):
        IrCron._process_jobs(registry.db_name)
    assert _param(registry, 'sim_good.beats') is None            # not due yet
    with freeze_time(T0 + datetime.timedelta(seconds=5)):
        IrCron._process_jobs(registry.db_name)
        IrCron._process_jobs(registry.db_name)                   # once: rescheduled
    assert _param(registry, 'sim_good.beats') == '1'
    assert _param(registry, 'sim_good.beat_uid') == '2'           # the job's user (admin)
    job = _read(registry, job_id, ['nextcall', 'lastcall', 'active'])
    assert job['nextcall'] == T0 + datetime.timedelta(minutes=1)
    assert job['lastcall'] == T0 + datetime.timedelta(seconds=5)
    assert job['active']
    with freeze_time(T0 + datetime.timedelta(minutes=1, seconds=1)):
        IrCron._process_jobs(registry.db_name)
    assert _param(registry, 'sim_good.beats') == '2'


def test_trigger_runs_a_job_before_its_nextcall(registry):
    extra = {'numbercall': -1} if release.SERIE_MAJOR == 17 else {}
    job_id = _setup_job(registry, 'sim_good.ir_cron_heartbeat', **extra)
    with freeze_time(T0 - datetime.timedelta(hours=1)):
        with registry.cursor() as cr:
            api.Environment(cr, 1, {})['ir.cron'].browse(job_id)._trigger()
        IrCron._process_jobs(registry.db_name)
    assert _param(registry, 'sim_good.beats') == '1'


def test_one_process_runs_a_job_at_a_time(registry):
    extra = {'numbercall': -1} if release.SERIE_MAJOR == 17 else {}
    job_id = _setup_job(registry, 'sim_good.ir_cron_heartbeat',
                        code='model._cron_send_heartbeat()\ntime.sleep(0.5)', **extra)
    with registry.cursor() as cr:
        cr.execute("UPDATE ir_cron SET nextcall = %s WHERE id = %s",
                   [datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
                    - datetime.timedelta(seconds=30), job_id])
    start = CTX.Event()

    def worker():
        start.wait(10)
        IrCron._process_jobs(registry.db_name)
    procs = [CTX.Process(target=worker) for _ in range(3)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    assert _param(registry, 'sim_good.beats') == '1'


def test_failing_job_is_rolled_back_and_logged(registry, caplog):
    extra = {'numbercall': -1} if release.SERIE_MAJOR == 17 else {}
    job_id = _setup_job(registry, 'sim_good.ir_cron_fail', **extra)
    with caplog.at_level(logging.ERROR, logger='odoo.addons.base.models.ir_cron'):
        with freeze_time(T0 + datetime.timedelta(seconds=1)):
            IrCron._process_jobs(registry.db_name)
    assert 'boom' in caplog.text
    fields = ['nextcall', 'active'] + (['failure_count'] if release.SERIE_MAJOR >= 18 else [])
    job = _read(registry, job_id, fields)
    assert job['nextcall'] == T0 + datetime.timedelta(days=1) and job['active']
    if release.SERIE_MAJOR >= 18:
        assert job['failure_count'] == 1
        for day in range(1, 9):
            with freeze_time(T0 + datetime.timedelta(days=day, seconds=1)):
                IrCron._process_jobs(registry.db_name)
        assert not _read(registry, job_id, ['active'])['active']  # 5 failures over 7 days
