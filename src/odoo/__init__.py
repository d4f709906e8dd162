"""A simulated Odoo (17.0 / 18.0 / 19.0, see ``odoo.release`` and README.md).

It implements the part of the ``odoo`` package an addon needs, with the real
names and the real failure modes, on SQLite or PostgreSQL.  It contains no
Odoo code.
"""
SUPERUSER_ID = 1

from . import (  # noqa: E402
    addons,  # noqa: E402,F401
    api,
    exceptions,  # noqa: E402
    fields,
    http,  # noqa: E402
    models,
    modules,  # noqa: E402
    release,  # noqa: E402
    service,  # noqa: E402
    sql_db,  # noqa: E402
    tools,  # noqa: E402
)
from .tools.translate import LazyTranslate, _  # noqa: E402

_lt = LazyTranslate()

if release.SERIE_MAJOR < 19:
    def registry(database_name=None):
        """``odoo.registry(db)`` (removed in 19.0)."""
        from .modules.registry import Registry
        if database_name is None:
            import threading
            database_name = threading.current_thread().dbname
        return Registry(database_name)

__all__ = ['SUPERUSER_ID', 'release', 'exceptions', 'tools', '_', 'sql_db', 'api',
           'fields', 'models', 'modules', 'service', 'http']
