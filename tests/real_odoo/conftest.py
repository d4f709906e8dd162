"""The addon on real Odoo (REAL_ODOO_VERSION: 17.0, 18.0 or 19.0; tox envs real17/18/19).

Without the Odoo tree or PostgreSQL the suite is skipped and says why; under CI it fails instead.
Every Odoo process's log is read after each test: no WARNING or ERROR may appear beyond what the
test declares expected (`odoo.expect_warnings`) and the trimmed tree's own noise.
"""

import os
import shutil
import uuid
from pathlib import Path

import pytest

from . import odoo_env
from .receiver import RecordingReceiver


def _unavailable(reason):
    if os.environ.get("CI"):
        pytest.fail(f"CI runs the real-Odoo suite: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres():
    dsn = (os.environ.get("REAL_ODOO_PG_DSN") or os.environ.get("ODOO_SIM_TEST_PG_DSN")
           or "postgresql://postgres@127.0.0.1:5432")
    try:
        import psycopg2
        psycopg2.connect(dsn, dbname="postgres", connect_timeout=3).close()
    except Exception as error:  # noqa: BLE001 - any reason to reach no server is the same skip
        _unavailable(f"PostgreSQL unreachable at {dsn}: {error}")
    pg = odoo_env.Postgres(dsn, role=f"odoo_dev_mcp_real{odoo_env.major()}")
    pg.ensure_role()
    prefix = f"odoo_dev_mcp_r{odoo_env.major()}_"
    for leftover in pg.databases(prefix):
        pg.drop(leftover)
    pg.prefix = prefix
    yield pg
    for name in pg.databases(prefix):
        pg.drop(name)


@pytest.fixture(scope="session")
def odoo(postgres, tmp_path_factory):
    tree = odoo_env.source_tree()
    if not (tree / "odoo-bin").is_file():
        _unavailable(f"no Odoo {odoo_env.version()} tree at {tree} "
                     f"(set ODOO_SRC_{odoo_env.major()} to an Odoo checkout)")
    if not shutil.which("unshare") or os.geteuid() != 0:
        _unavailable("new hostnames need root and unshare(1) (a rebuild is a new UTS namespace)")
    venvs = Path(os.environ.get("REAL_ODOO_VENV_DIR") or odoo_env.ROOT / ".tox")
    python = odoo_env.odoo_python(venvs)
    work_dir = tmp_path_factory.mktemp(f"real-odoo-{odoo_env.version()}")
    return odoo_env.Odoo(python, postgres, work_dir)


@pytest.fixture(scope="session")
def template_db(odoo, postgres):
    """base + web + odoo_dev_mcp installed once, no receiver configured; tests copy it."""
    name = f"{postgres.prefix}template"
    config = odoo.write_config("template")
    odoo.run("install-template", config, ["-d", name, "-i", "odoo_dev_mcp",
                                               *odoo_env.no_demo_args()])
    return name


@pytest.fixture
def make_db(postgres, template_db):
    def make(label):
        name = f"{postgres.prefix}{label}_{uuid.uuid4().hex[:6]}"
        # owned by the role: Odoo lists only the databases its own role owns
        postgres.query("postgres", f'CREATE DATABASE "{name}" TEMPLATE "{template_db}" '
                                   f'OWNER "{postgres.role}"')
        return name
    return make


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        made.append(RecordingReceiver(**kwargs))
        return made[-1]

    yield make
    for one in made:
        one.close()


def unexpected_problems(logs, expected=()) -> list[str]:
    """WARNING/ERROR records of these Odoo logs that no `expected` substring explains."""
    return [f"{log.path.name}: {record}" for log in logs for record in log.problems()
            if not any(text in record for text in expected)]


@pytest.fixture(autouse=True)
def clean_odoo_logs(request):
    """After each test: every Odoo log it produced holds no unexpected WARNING/ERROR.
    (A module-scoped server is its fixture's to stop and check.)"""
    if "odoo" not in request.fixturenames:
        yield
        return
    odoo = request.getfixturevalue("odoo")
    odoo.expect_warnings = []
    first_run = odoo.runs
    started_before = list(odoo.started)
    yield
    for server in [one for one in odoo.started if one not in started_before]:
        odoo.started.remove(server)
        server.stop()
    logs = [odoo_env.OdooLog(path) for path in sorted(odoo.work_dir.glob("*.log"))
            if int(path.name.split("-", 1)[0]) > first_run]
    problems = unexpected_problems(logs, odoo.expect_warnings)
    assert not problems, "Odoo logged:\n" + "\n".join(problems)
