"""Fixtures for the simulated Odoo's own tests.

In-process tests run with the flavour of the environment
(``ODOO_SIM_VERSION``, 17.0 by default); flavour-specific behaviour is
checked in subprocesses (``run_flavour``), since the flavour is fixed at
import like a real Odoo series is.
"""
import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SRC = HERE.parents[1] / 'src'
ADDONS = HERE / 'addons'
FLAVOURS = ['17.0', '18.0', '19.0']


@pytest.fixture(scope='session', autouse=True)
def sim_config(tmp_path_factory):
    from odoo.tools import config
    data_dir = tmp_path_factory.mktemp('odoo-sim-data')
    config['data_dir'] = str(data_dir)
    paths = config._as_list('addons_path') + [str(ADDONS)]
    config['addons_path'] = paths if isinstance(config['addons_path'], list) else ','.join(paths)
    return config


@pytest.fixture(autouse=True)
def _no_retry_sleep(monkeypatch):
    # Odoo waits up to 2**try seconds between replays; tests do not
    import odoo.service.model
    monkeypatch.setattr(odoo.service.model, '_sleep', lambda tryno: None)


@pytest.fixture
def dbname():
    from odoo.service import db
    name = f'simtest_{uuid.uuid4().hex[:10]}'
    yield name
    db.exp_drop(name)


@pytest.fixture
def registry(dbname):
    from odoo.service import db
    return db.create_database(dbname, modules=['sim_good'])


@pytest.fixture
def env_factory(registry):
    """``with env_factory(uid) as env:`` a committed-on-success environment."""
    import contextlib

    from odoo import api

    @contextlib.contextmanager
    def make(uid=1, context=None):
        with registry.cursor() as cr:
            yield api.Environment(cr, uid, context or {})
    return make


def set_db_name(config, names):
    """config['db_name'] has the flavour's type: str on 17/18, list on 19."""
    if isinstance(config['db_name'], list) or config['db_name'] == []:
        config['db_name'] = list(names)
    else:
        config['db_name'] = ','.join(names) or False


@pytest.fixture
def client(registry, sim_config):
    from werkzeug.test import Client

    import odoo.http
    saved = sim_config['db_name']
    set_db_name(sim_config, [registry.db_name])
    yield Client(odoo.http.root)
    sim_config['db_name'] = saved


def run_flavour(version, code, tmp_path, timeout=60):
    """Run ``code`` in a fresh interpreter with ODOO_SIM_VERSION=version; the
    code must print one JSON document on its last output line."""
    prelude = textwrap.dedent(f"""
        import json, os, sys
        import odoo
        from odoo.tools import config
        paths = config._as_list('addons_path') + [{str(ADDONS)!r}]
        config['addons_path'] = paths if isinstance(config['addons_path'], list) else ','.join(paths)
        from odoo import api, SUPERUSER_ID
        from odoo.service import db as service_db
    """)
    env = dict(os.environ, ODOO_SIM_VERSION=version, PYTHONPATH=str(SRC),
               ODOO_SIM_DATA_DIR=str(tmp_path / f'data-{version}'))
    proc = subprocess.run([sys.executable, '-c', prelude + textwrap.dedent(code)], env=env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"flavour {version} subprocess failed:\n{proc.stdout}\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def new_uid(env, login):
    """A plain internal user, not in base.group_system."""
    return env['res.users'].create({'name': login.title(), 'login': login}).id


def make_user(registry, login):
    from odoo import api
    with registry.cursor() as cr:
        return new_uid(api.Environment(cr, 1, {}), login)


def as_json(response):
    return json.loads(response.get_data(as_text=True))
