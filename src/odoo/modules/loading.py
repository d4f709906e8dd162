"""Loading and installing modules (odoo/modules/loading.py).

``load_modules(registry, update_module)`` imports the installed addons in
dependency order and composes their models.  With ``update_module=True`` it
also initialises an empty database (module ``base``), installs the modules
named in ``config['init']`` (with their dependencies) and updates those in
``config['update']``: tables and columns are created, data files loaded in
manifest order, hooks run.  Everything happens in ONE transaction: a
failing install rolls everything back, like real Odoo.
"""
import logging

import psycopg2

from .. import SUPERUSER_ID, api
from ..exceptions import UserError
from ..tools import config
from ..tools.convert import convert_file
from . import module as modmod

_logger = logging.getLogger(__name__)


def _table_exists(cr, table):
    if cr.backend == 'postgresql':
        cr.execute("SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                   "WHERE c.relname = %s AND n.nspname = current_schema() AND c.relkind IN ('r', 'p')",
                   [table])
    else:
        cr.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [table])
    return bool(cr.fetchone())


def _table_columns(cr, table):
    if cr.backend == 'postgresql':
        cr.execute("SELECT column_name FROM information_schema.columns "
                   "WHERE table_name = %s AND table_schema = current_schema()", [table])
        return {row[0] for row in cr.fetchall()}
    cr.execute(f'PRAGMA table_info("{table}")')
    return {row[1] for row in cr.fetchall()}


def _parse_constraint(definition):
    definition = definition.strip()
    kind, _, rest = definition.partition('(')
    return kind.strip().lower(), rest.rsplit(')', 1)[0]


def init_models(cr, registry):
    """Create missing tables, columns, relation tables and SQL constraints."""
    backend = cr.backend
    for model in registry.models.values():
        if not model._auto:
            continue
        table = model._table
        columns = [f for f in model._fields.values() if f.column and f.name != 'id']
        checks = [(name, expr) for name, definition, _msg in model._all_sql_constraints
                  for kind, expr in [_parse_constraint(definition)] if kind == 'check']
        if not _table_exists(cr, table):
            id_def = 'SERIAL PRIMARY KEY' if backend == 'postgresql' else 'INTEGER PRIMARY KEY AUTOINCREMENT'
            defs = [f'"id" {id_def}']
            for field in columns:
                not_null = ' NOT NULL' if field.required else ''
                defs.append(f'"{field.name}" {field.sql_type(backend)}{not_null}')
            for name, expr in checks:
                defs.append(f'CONSTRAINT "{table}_{name}" CHECK ({expr})')
            cr.execute(f'CREATE TABLE "{table}" ({", ".join(defs)})')
        else:
            existing = _table_columns(cr, table)
            for field in columns:
                if field.name not in existing:
                    cr.execute(f'ALTER TABLE "{table}" ADD COLUMN "{field.name}" {field.sql_type(backend)}')
            if backend == 'postgresql':
                for name, expr in checks:
                    cr.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [f'{table}_{name}'])
                    if not cr.fetchone():
                        cr.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{table}_{name}" CHECK ({expr})')
            elif checks:
                _logger.debug("SQLite cannot add CHECK constraints to existing table %s", table)
        for name, definition, _msg in model._all_sql_constraints:
            kind, expr = _parse_constraint(definition)
            if kind == 'unique':
                cr.execute(f'CREATE UNIQUE INDEX IF NOT EXISTS "{table}_{name}" ON "{table}" ({expr})')
        for field in model._fields.values():
            if field.type == 'many2many' and field.store and field.comodel_name in registry:
                rel, col1, col2 = _m2m_names(model, registry, field)
                cr.execute(f'CREATE TABLE IF NOT EXISTS "{rel}" ("{col1}" INTEGER NOT NULL, '
                           f'"{col2}" INTEGER NOT NULL, PRIMARY KEY ("{col1}", "{col2}"))')


def _m2m_names(model, registry, field):
    comodel = registry[field.comodel_name]
    tables = sorted([model._table, comodel._table])
    rel = field.relation or f'{tables[0]}_{tables[1]}_rel'
    return rel, field.column1 or f'{model._table}_id', field.column2 or f'{comodel._table}_id'


def reflect_models(env, module, model_names):
    """ir.model rows and the ``<module>.model_<name>`` external ids."""
    IrModel = env['ir.model']
    Data = env['ir.model.data']
    for name in model_names:
        model = env.registry[name]
        record = IrModel.search([('model', '=', name)], limit=1)
        if not record:
            record = IrModel.create({'model': name, 'name': model._description or name,
                                     'transient': bool(model._transient), 'state': 'base'})
        xmlid_name = 'model_' + name.replace('.', '_')
        if not Data.search([('module', '=', module), ('name', '=', xmlid_name)], limit=1):
            Data.create({'module': module, 'name': xmlid_name, 'model': 'ir.model',
                         'res_id': record.id, 'noupdate': False})


def _bootstrap_base(env):
    """Records real Odoo creates from base_data.sql / base_groups.xml."""
    Groups = env['res.groups']
    Data = env['ir.model.data']

    def xmlid(name, record):
        Data.create({'module': 'base', 'name': name, 'model': record._name, 'res_id': record.id,
                     'noupdate': True})
        return record

    group_user = xmlid('group_user', Groups.create({'name': 'Internal User'}))
    group_manager = xmlid('group_erp_manager', Groups.create({'name': 'Access Rights'}))
    group_system = xmlid('group_system', Groups.create({'name': 'Settings'}))
    group_public = xmlid('group_public', Groups.create({'name': 'Public'}))
    xmlid('group_portal', Groups.create({'name': 'Portal'}))
    xmlid('group_no_one', Groups.create({'name': 'Technical Features'}))
    company = xmlid('main_company', env['res.company'].create({'name': 'My Company'}))
    Users = env['res.users'].with_context(allowed_company_ids=[company.id])
    gfield = Users._groups_field_name()
    xmlid('user_root', Users.create({'name': 'OdooBot', 'login': '__system__', 'active': False,
                                      gfield: [group_user.id, group_manager.id, group_system.id]}))
    xmlid('user_admin', Users.create({'name': 'Administrator', 'login': 'admin',
                                       gfield: [group_user.id, group_manager.id, group_system.id]}))
    xmlid('public_user', Users.create({'name': 'Public user', 'login': 'public', 'active': False,
                                        gfield: [group_public.id]}))


def _installed_modules(cr):
    cr.execute("SELECT name FROM ir_module_module WHERE state IN ('installed', 'to upgrade', 'to remove')")
    return [row[0] for row in cr.fetchall()]


def _topological(names):
    """``names`` plus their dependencies, dependencies first."""
    order, seen = [], set()

    def visit(name, chain):
        if name in seen:
            return
        if name in chain:
            raise UserError("Circular dependency between modules: {}".format(' -> '.join(chain + [name])))
        manifest = modmod.get_manifest(name)
        if not manifest:
            raise UserError(
                f"You try to install module {chain[-1] if chain else name!r} "
                f"that depends on module {name!r}.\n"
                "But the latter module is not available in your system.")
        for dep in manifest.get('depends', []):
            visit(dep, chain + [name])
        seen.add(name)
        order.append(name)

    for name in names:
        visit(name, [])
    return order


def _load_module_code(registry, cr, name):
    modmod.load_openerp_module(name)
    return registry.load(cr, name)


def install_module(env, name, mode='init'):
    """Install (mode 'init') or update (mode 'update') one module whose
    dependencies are installed already."""
    registry = env.registry
    cr = env.cr
    manifest = modmod.get_manifest(name)
    if not manifest or not manifest.get('installable', True):
        raise UserError(f"Module {name!r} is not installable or not found in the addons path.")
    try:
        modmod.check_manifest_dependencies(manifest)
    except Exception as e:
        raise UserError(f'Unable to install module "{name}" because an external dependency '
                        f'is not met: {e.args[0]}') from e
    installed = set(_installed_modules(cr))
    for dep in manifest['depends']:
        if dep not in installed:
            raise UserError(f"You try to install module {name!r} that depends on module {dep!r}.\n"
                            "But the latter module is not available in your system.")
    IrModule = env['ir.module.module']
    module_rec = IrModule._sim_get(name, manifest)
    module_rec.write({'state': 'to install' if mode == 'init' else 'to upgrade'})
    py_module = modmod.load_openerp_module(name)
    if mode == 'init' and manifest.get('pre_init_hook'):
        getattr(py_module, manifest['pre_init_hook'])(env)
    model_names = registry.load(cr, name)
    registry.setup_models(cr)
    init_models(cr, registry)
    reflect_models(env, name, model_names)
    for model_name in model_names:
        env[model_name].init()
    env.invalidate_all()
    idref = {}
    for filename in manifest.get('data', []):
        _logger.info("loading %s/%s", name, filename)
        convert_file(env, name, filename, idref, mode=mode, noupdate=False, kind='data')
    if mode == 'init' and manifest.get('post_init_hook'):
        getattr(py_module, manifest['post_init_hook'])(env)
    module_rec.write({'state': 'installed', 'latest_version': manifest['version']})
    env.flush_all()


def _initialize_database(registry, cr):
    manifest = modmod.get_manifest('base')
    _load_module_code(registry, cr, 'base')
    registry.setup_models(cr)
    init_models(cr, registry)
    env = api.Environment(cr, SUPERUSER_ID, {})
    _bootstrap_base(env)
    reflect_models(env, 'base', list(registry.models))
    for model_name in registry.models:
        env[model_name].init()
    module_rec = env['ir.module.module']._sim_get('base', manifest)
    module_rec.write({'state': 'installed', 'latest_version': manifest['version']})
    idref = {}
    for filename in manifest.get('data', []):
        convert_file(env, 'base', filename, idref, mode='init', noupdate=False, kind='data')
    env.flush_all()


def load_modules(registry, force_demo=False, status=None, update_module=False):
    modmod.initialize_sys_path()
    with registry.cursor() as cr:
        if not _table_exists(cr, 'ir_module_module'):
            if not update_module:
                _logger.error("Database %s not initialized, you can force it with `-i base`", cr.dbname)
                raise psycopg2.errors.UndefinedTable(
                    f'relation "ir_module_module" does not exist (database {cr.dbname} not initialized)')
            _initialize_database(registry, cr)
        installed = _installed_modules(cr)
        for name in _topological(installed):
            if name in registry._init_modules:
                continue
            _load_module_code(registry, cr, name)
        registry.setup_models(cr)
        if update_module:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env['ir.module.module'].update_list()
            init_models(cr, registry)
            to_init = [m for m in (config['init'] or {}) if m != 'all']
            to_update = list(config['update'] or {})
            if 'all' in to_update:
                to_update = _topological(installed)
            for name in _topological(to_init):
                if name not in set(_installed_modules(cr)):
                    install_module(env, name, mode='init')
            for name in _topological(to_update):
                if name in set(_installed_modules(cr)) and name not in to_init:
                    install_module(env, name, mode='update')
            config['init'] = {}
            config['update'] = {}
        registry.loaded = True


def reset_modules_state(db_name):
    """Put modules stuck in a transient state back (after a failed load)."""
    from ..sql_db import db_connect
    with db_connect(db_name).cursor() as cr:
        if not _table_exists(cr, 'ir_module_module'):
            return
        cr.execute("UPDATE ir_module_module SET state = 'installed' "
                   "WHERE state IN ('to remove', 'to upgrade')")
        cr.execute("UPDATE ir_module_module SET state = 'uninstalled' WHERE state = 'to install'")
