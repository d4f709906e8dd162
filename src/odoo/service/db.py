"""Database management (odoo/service/db.py).

``exp_create_database(db_name, ...)`` creates and initialises a database
(module ``base``).  ``create_database(db_name, modules=())`` is the
simulator's documented helper: ``exp_create_database`` then the install of
``modules`` through ``config['init']`` + ``Registry.new(db, update_module=True)``
exactly like ``odoo-bin -d db -i modules``.
"""
import logging

from .. import sql_db
from ..tools import config

_logger = logging.getLogger(__name__)


class DatabaseExists(Warning):
    pass


def list_dbs(force=False):
    return sql_db.list_databases()


def exp_list(document=False):
    return list_dbs()


def exp_db_exist(db_name):
    return db_name in list_dbs(True)


def _create_empty_database(name):
    sql_db.create_empty_database(name)


def _initialize_db(db_name, demo=False, lang='en_US', user_password='admin', login='admin'):
    from ..modules.registry import Registry
    return Registry.new(db_name, update_module=True)


def exp_create_database(db_name, demo=False, lang='en_US', user_password='admin', login='admin',
                        country_code=None, phone=None):
    _logger.info('Create database `%s`.', db_name)
    _create_empty_database(db_name)
    _initialize_db(db_name, demo, lang, user_password, login)
    return True


def create_database(db_name, modules=(), **kwargs):
    """Simulator helper: create ``db_name`` and install ``modules``; returns
    the registry."""
    from ..modules.registry import Registry
    exp_create_database(db_name, **kwargs)
    if modules:
        return install_modules(db_name, modules)
    return Registry(db_name)


def install_modules(db_name, modules):
    """Simulator helper, the ``odoo-bin -d db_name -i modules`` path."""
    from ..modules.registry import Registry
    config['init'] = dict.fromkeys(modules, 1)
    try:
        return Registry.new(db_name, update_module=True)
    finally:
        config['init'] = {}


def exp_drop(db_name):
    from ..modules.registry import Registry
    if db_name not in list_dbs(True):
        return False
    Registry.delete(db_name)
    sql_db.drop_database(db_name)
    _logger.info('DROP DB: %s', db_name)
    return True
