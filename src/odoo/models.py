"""Models and recordsets (odoo/models.py), reduced to what addons use.

Model classes are composed per registry like real Odoo: a class with
``_inherit = 'x'`` and no other ``_name`` is inserted in front of the bases of
model 'x' (so ``super()`` walks the extensions), a class with another
``_name`` gets the inherited model classes as extra bases.

Faithful parts that matter for tests: access rights from ``ir.model.access``
(superuser mode bypasses them, ``uid=None`` has no group), field ``groups``
(checked by ``read``, ``search_read``, ``web_read``, ``fetch``, reading a
field of a record from the database, ``write`` and ``fields_get``; NOT by
``default_get``, nor by ``onchange`` on a new record on 17.0/18.0, where
19.0's ``onchange`` checks the model's create/write access), the transaction
cache (stale after raw SQL until invalidated), delayed writes (flushed before
search/unlink/commit/savepoint), ``Invalid field`` errors, SQL constraints.
``_read_group`` (the 17/18/19 signature; groups computed in Python). Record rules, computed
stored fields, translations, multi-company: not simulated.
"""
import logging
from collections import defaultdict

from . import api, release
from .exceptions import AccessError, MissingError, UserError, ValidationError
from .fields import Datetime, Field, Id, Many2many, Many2one
from .tools.misc import unique

_logger = logging.getLogger(__name__)

LOG_ACCESS_COLUMNS = ['create_uid', 'create_date', 'write_uid', 'write_date']
MAGIC_COLUMNS = ['id'] + LOG_ACCESS_COLUMNS

# Odoo's READ_GROUP_AGGREGATE keys (17.0/18.0/19.0)
_SIM_AGGREGATES = ('sum', 'avg', 'max', 'min', 'bool_and', 'bool_or', 'array_agg', 'recordset',
                   'count', 'count_distinct')

_OPERATION_LABEL = {'read': 'access', 'write': 'modify', 'create': 'create', 'unlink': 'delete'}


class MetaModel(type):
    """Remembers the model classes defined by each addon, in definition
    order, for the registry to compose them when the addon is loaded."""
    module_to_models = defaultdict(list)

    def __init__(self, name, bases, attrs):
        super().__init__(name, bases, attrs)
        if not attrs.get('_register', True):
            return
        module = attrs.get('__module__', '')
        parts = module.split('.')
        if parts[:2] == ['odoo', 'addons'] and len(parts) > 2:
            self._module = parts[2]
        else:
            self._module = None
        if self._module:
            MetaModel.module_to_models[self._module].append(self)


class NewId:
    pass


def _normalize_inherit(cls):
    parents = cls.__dict__.get('_inherit', ())
    if isinstance(parents, str):
        parents = [parents]
    return list(parents or ())


class BaseModel(metaclass=MetaModel):
    _auto = False
    _register = False
    _abstract = True
    _transient = False
    _name = None
    _description = None
    _inherit = ()
    _table = None
    _order = 'id'
    _rec_name = None
    _log_access = True
    _sql_constraints = []
    _module = None
    _original_module = None
    _fields = {}

    # ------------------------------------------------------------------
    # class composition (registry side)
    # ------------------------------------------------------------------
    @classmethod
    def _build_model(cls, registry):
        parents = _normalize_inherit(cls)
        name = cls.__dict__.get('_name') or (len(parents) == 1 and parents[0]) or cls.__name__
        if name in parents:
            if name not in registry:
                raise TypeError(f"Model {name!r} does not exist in registry.")
            ModelClass = registry[name]
            bases = [cls, *ModelClass._base_classes]
        else:
            ModelClass = type(name, (cls,), {
                '_name': name,
                '_register': False,
                '_original_module': cls._module,
                '__module__': cls.__module__,
            })
            bases = [cls]
            for parent in parents:
                if parent not in registry:
                    raise TypeError(f"Model {name!r} inherits from non-existing model {parent!r}.")
                bases.append(registry[parent])
        bases = tuple(unique(bases))
        ModelClass._base_classes = bases
        ModelClass.__bases__ = bases
        ModelClass.pool = registry
        if not ModelClass.__dict__.get('_table'):
            ModelClass._table = name.replace('.', '_')
        registry.models[name] = ModelClass
        return ModelClass

    @classmethod
    def _setup_fields(cls):
        definitions = {}
        for klass in reversed(cls.__mro__):
            for attr, value in vars(klass).items():
                if isinstance(value, Field):
                    definitions.setdefault(attr, []).append(value)
        fields = {'id': Id()}
        if cls._log_access and not cls._abstract:
            fields['create_uid'] = Many2one('res.users', string='Created by', ondelete='set null')
            fields['create_date'] = Datetime(string='Created on')
            fields['write_uid'] = Many2one('res.users', string='Last Updated by', ondelete='set null')
            fields['write_date'] = Datetime(string='Last Updated on')
        for fname, defs in definitions.items():
            args = {}
            for definition in defs:
                # a redefinition with another type replaces, same type merges
                if type(definition) is not type(defs[-1]):
                    args = {}
                args.update(definition.args)
            fields[fname] = type(defs[-1])(**args)
        for fname, field in fields.items():
            field.name = fname
            field.model_name = cls._name
            setattr(cls, fname, field)
        cls._fields = fields
        cls._constraint_methods = [
            getattr(cls, name) for name in dir(cls)
            if callable(getattr(cls, name, None)) and getattr(getattr(cls, name), '_constrains', None)
        ]
        cls._ondelete_methods = [
            getattr(cls, name) for name in dir(cls)
            if callable(getattr(cls, name, None))
            and getattr(getattr(cls, name), '_ondelete', None) is not None
        ]
        constraints = {}
        for klass in reversed(cls.__mro__):
            for cons in klass.__dict__.get('_sql_constraints', ()):
                constraints[cons[0]] = cons
        cls._all_sql_constraints = list(constraints.values())
        if not cls._rec_name:
            cls._rec_name = 'name' if 'name' in fields else ('x_name' if 'x_name' in fields else None)

    def init(self):
        """Called after the model's table is created/updated."""

    # ------------------------------------------------------------------
    # recordset basics
    # ------------------------------------------------------------------
    @classmethod
    def _browse(cls, env, ids, prefetch_ids):
        records = object.__new__(cls)
        records.env = env
        records._ids = ids
        records._prefetch_ids = prefetch_ids
        return records

    def browse(self, ids=None):
        if not ids:
            ids = ()
        elif isinstance(ids, int):
            ids = (ids,)
        else:
            ids = tuple(ids)
        return self._browse(self.env, ids, ids)

    @property
    def ids(self):
        return list(self._ids)

    @property
    def _cr(self):
        return self.env.cr

    @property
    def _uid(self):
        return self.env.uid

    @property
    def _context(self):
        return self.env.context

    def __bool__(self):
        return bool(self._ids)

    __nonzero__ = __bool__

    def __len__(self):
        return len(self._ids)

    def __int__(self):
        # real Odoo too (models.py): so env(user=record) and with_user(record) take a record
        return self.id or 0

    def __iter__(self):
        for id_ in self._ids:
            yield self._browse(self.env, (id_,), self._prefetch_ids)

    def __reversed__(self):
        for id_ in reversed(self._ids):
            yield self._browse(self.env, (id_,), self._prefetch_ids)

    def __contains__(self, item):
        if isinstance(item, BaseModel) and item._name == self._name:
            return len(item) == 1 and item.id in self._ids
        if isinstance(item, str):
            return item in self._fields
        raise TypeError(f"unsupported operand types in: {item!r} in {self!r}")

    def __add__(self, other):
        return self.concat(other)

    def concat(self, *args):
        ids = list(self._ids)
        for arg in args:
            self._check_same_model(arg, '+')
            ids.extend(arg._ids)
        return self.browse(ids)

    def _check_same_model(self, other, op):
        if not isinstance(other, BaseModel) or other._name != self._name:
            raise TypeError(f"unsupported operand types in: {self!r} {op} {other!r}")

    def __or__(self, other):
        self._check_same_model(other, '|')
        return self.browse(unique(self._ids + other._ids))

    def __and__(self, other):
        self._check_same_model(other, '&')
        other_ids = set(other._ids)
        return self.browse(unique(i for i in self._ids if i in other_ids))

    def __sub__(self, other):
        self._check_same_model(other, '-')
        other_ids = set(other._ids)
        return self.browse(i for i in self._ids if i not in other_ids)

    def __eq__(self, other):
        if not isinstance(other, BaseModel):
            if other:
                _logger.warning("unsupported operand == between %r and %r", self, other)
            return False
        return self._name == other._name and set(self._ids) == set(other._ids)

    def __hash__(self):
        return hash((self._name, frozenset(self._ids)))

    def __repr__(self):
        return f"{self._name}{self._ids!r}"

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._fields[key].__get__(self, type(self))
        if isinstance(key, slice):
            return self.browse(self._ids[key])
        return self._browse(self.env, (self._ids[key],), self._prefetch_ids)

    def __setitem__(self, key, value):
        return self._fields[key].__set__(self, value)

    def ensure_one(self):
        try:
            _id, = self._ids
            return self
        except ValueError:
            raise ValueError(f"Expected singleton: {self}") from None

    def with_env(self, env):
        return self._browse(env, self._ids, self._prefetch_ids)

    def sudo(self, flag=True):
        if not isinstance(flag, bool):
            raise ValueError("sudo() only accepts a boolean")
        return self.with_env(self.env(su=flag))

    def with_user(self, user):
        if not user:
            return self
        return self.with_env(self.env(user=user, su=False))

    def with_context(self, *args, **kwargs):
        context = dict(args[0] if args else self.env.context, **kwargs)
        return self.with_env(self.env(context=context))

    def with_company(self, company):
        return self

    def exists(self):
        if not self._ids:
            return self
        self.env.cr.execute(
            f'SELECT id FROM "{self._table}" WHERE id IN %s', [tuple(self._ids)])
        existing = {row[0] for row in self.env.cr.fetchall()}
        return self.browse(i for i in self._ids if i in existing)

    def mapped(self, func):
        if isinstance(func, str):
            recs = self
            for name in func.split('.'):
                field = recs._fields[name]
                values = [field.__get__(rec, type(rec)) for rec in recs]
                if field.relational:
                    result = recs.env[field.comodel_name]
                    for value in values:
                        result |= value
                    recs = result
                else:
                    return values
            return recs
        values = [func(rec) for rec in self]
        if values and all(isinstance(v, BaseModel) for v in values):
            result = values[0].browse()
            for value in values:
                result |= value
            return result
        return values

    def filtered(self, func):
        if isinstance(func, str):
            name = func
            func = lambda rec: any(rec.mapped(name))  # noqa: E731
        return self.browse(rec.id for rec in self if func(rec))

    def filtered_domain(self, domain):
        matching = self.search([('id', 'in', self.ids)] + list(domain))
        return self.browse(i for i in self._ids if i in set(matching._ids))

    def sorted(self, key=None, reverse=False):
        if key is None:
            return self.search([('id', 'in', self.ids)], order=self._order) if not reverse else \
                self.browse(reversed(self.search([('id', 'in', self.ids)], order=self._order)._ids))
        if isinstance(key, str):
            name = key
            key = lambda rec: rec[name]  # noqa: E731
        return self.browse(rec.id for rec in sorted(self, key=key, reverse=reverse))

    @property
    def display_name(self):
        if not self._ids:
            return False
        self.ensure_one()
        if self._rec_name and self._rec_name in self._fields:
            value = self[self._rec_name]
            return value if isinstance(value, str) else str(value)
        return f"{self._name},{self.id}"

    # ------------------------------------------------------------------
    # access rights
    # ------------------------------------------------------------------
    def _access_error(self, operation):
        description = self._description or self._name
        return AccessError(
            f"You are not allowed to {_OPERATION_LABEL.get(operation, operation)} "
            f"'{description}' ({self._name}) records.\n\n"
            "Contact your administrator to request access if necessary.")

    def check_access_rights(self, operation, raise_exception=True):
        if self.env.su:
            return True
        allowed = self.env['ir.model.access']._sim_allowed(self._name, operation, self.env.uid)
        if not allowed and raise_exception:
            raise self._access_error(operation)
        return allowed

    def check_access_rule(self, operation):
        """Record rules are not simulated."""
        return None

    def check_access(self, operation):
        self.check_access_rights(operation)

    # field groups (17/18: check_field_access_rights; 19: _has_field_access /
    # _check_field_access, check_field_access_rights kept as a deprecated API)
    def _sim_user_has_groups(self, group_spec):
        if group_spec == '.':
            return False
        positives, negatives = [], []
        for group_ext_id in group_spec.split(','):
            group_ext_id = group_ext_id.strip()
            if group_ext_id.startswith('!'):
                negatives.append(group_ext_id[1:])
            else:
                positives.append(group_ext_id)
        user = self.env.user
        if not user:
            return not positives
        if any(user.has_group(ext_id) for ext_id in negatives):
            return False
        if any(user.has_group(ext_id) for ext_id in positives):
            return True
        return not positives

    if release.SERIE_MAJOR == 17:
        def user_has_groups(self, groups):
            return self._sim_user_has_groups(groups)

    def _has_field_access(self, field, operation):
        if not field.groups or self.env.su:
            return True
        return self._sim_user_has_groups(field.groups)

    def _field_access_error(self, invalid_fields, operation):
        _logger.info('Access Denied by ACLs for operation: %s, uid: %s, model: %s, fields: %s',
                     operation, self.env.uid, self._name, ', '.join(invalid_fields))
        description = self.env['ir.model']._get(self._name).name or self._name
        if release.SERIE_MAJOR >= 19:
            return AccessError(
                f'You do not have enough rights to access the field "{invalid_fields[0]}" on '
                f'{description} ({self._name}). Please contact your system administrator.'
                f'\n\nOperation: {operation}')
        operation_line = (f'\n\n(Operation: {operation})' if release.SERIE_MAJOR == 17
                          else f'\n\nOperation: {operation}')
        return AccessError(
            f'You do not have enough rights to access the fields "{",".join(invalid_fields)}" on '
            f'{description} ({self._name}). Please contact your system administrator.{operation_line}')

    def check_field_access_rights(self, operation, field_names):
        """The field names given (all accessible ones if none), or AccessError."""
        if self.env.su:
            return field_names or list(self._fields)
        if not field_names:
            return [name for name, field in self._fields.items() if self._has_field_access(field, operation)]
        invalid = [name for name in field_names
                   if name in self._fields and not self._has_field_access(self._fields[name], operation)]
        if invalid:
            raise self._field_access_error(invalid, operation)
        return field_names

    def _check_field_access(self, field, operation):
        if not self._has_field_access(field, operation):
            raise self._field_access_error([field.name], operation)

    if release.SERIE_MAJOR >= 18:  # 17.0 has only check_access_rights(op, raise_exception=False)
        def has_access(self, operation):
            return self.check_access_rights(operation, raise_exception=False)

    # ------------------------------------------------------------------
    # cache / flush
    # ------------------------------------------------------------------
    def _cache(self, field):
        return self.env.transaction.cache.setdefault((self._name, field.name), {})

    def _get_cache(self, field):
        cache = self._cache(field)
        id_ = self._ids[0]
        if id_ in cache:
            return cache[id_]
        if field.compute and not field.args.get('store'):
            getattr(self, field.compute)()
            if id_ in cache:
                return cache[id_]
            raise ValueError(f"Compute method failed to assign {self}.{field.name}")
        if not field.store and not field.compute:
            return False
        self._fetch_field(field)
        if id_ not in cache:
            raise MissingError(
                f"Record does not exist or has been deleted.\n(Record: {self}, User: {self.env.uid})")
        return cache[id_]

    def _fetch_field(self, field):
        """Load stored fields of the prefetch set into the cache (checks read
        access, and the field's groups, like real Odoo does on every fetch)."""
        self.check_field_access_rights('read', [field.name])
        self.check_access_rights('read')
        ids = [i for i in unique(self._prefetch_ids or self._ids) if isinstance(i, int)]
        if self._ids[0] not in ids:
            ids.append(self._ids[0])
        if isinstance(field, Many2many):
            self._fetch_many2many(field, ids)
            return
        # prefetch the other columns the user may read, never a forbidden one
        columns = [f for f in self._fields.values()
                   if f.column and (f is field or self._has_field_access(f, 'read'))]
        self.flush_model()
        self.env.cr.execute(
            'SELECT id, {} FROM "{}" WHERE id IN %s'.format(
                ', '.join(f'"{f.name}"' for f in columns), self._table),
            [tuple(ids)])
        for row in self.env.cr.fetchall():
            for f, value in zip(columns, row[1:], strict=False):
                self._cache(f)[row[0]] = f.convert_to_cache(value, self, validate=False) \
                    if value is not None else (f.null(self) if f.type in ('integer', 'float') else False)

    def _fetch_many2many(self, field, ids):
        rel, col1, col2 = self._m2m_table(field)
        self.env.cr.execute(f'SELECT "{col1}", "{col2}" FROM "{rel}" WHERE "{col1}" IN %s ORDER BY "{col2}"',
                            [tuple(ids)])
        values = defaultdict(list)
        for a, b in self.env.cr.fetchall():
            values[a].append(b)
        cache = self._cache(field)
        for id_ in ids:
            cache[id_] = tuple(values[id_])

    def _m2m_table(self, field):
        comodel = self.env.registry[field.comodel_name]
        tables = sorted([self._table, comodel._table])
        rel = field.relation or f'{tables[0]}_{tables[1]}_rel'
        col1 = field.column1 or f'{self._table}_id'
        col2 = field.column2 or f'{comodel._table}_id'
        return rel, col1, col2

    def flush_model(self, fnames=None):
        towrite = self.env.transaction.towrite.pop(self._name, None)
        if not towrite:
            return
        cr = self.env.cr
        for id_, vals in towrite.items():
            names = list(vals)
            cr.execute(
                'UPDATE "{}" SET {} WHERE id = %s'.format(
                    self._table, ', '.join(f'"{n}" = %s' for n in names)),
                [vals[n] for n in names] + [id_])

    def flush_recordset(self, fnames=None):
        self.flush_model(fnames)

    def invalidate_model(self, fnames=None, flush=True):
        if flush:
            self.flush_model(fnames)
        for (model, fname), cache in self.env.transaction.cache.items():
            if model == self._name and (fnames is None or fname in fnames):
                cache.clear()

    def invalidate_recordset(self, fnames=None, flush=True):
        if flush:
            self.flush_model(fnames)
        for (model, fname), cache in self.env.transaction.cache.items():
            if model == self._name and (fnames is None or fname in fnames):
                for id_ in self._ids:
                    cache.pop(id_, None)

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    def _check_field_names(self, vals):
        for key in vals:
            if key not in self._fields:
                raise ValueError(f"Invalid field {key!r} on model {self._name!r}")

    def default_get(self, fields_list):
        defaults = {}
        for name in fields_list:
            key = f'default_{name}'
            if key in self.env.context:
                defaults[name] = self.env.context[key]
                continue
            field = self._fields.get(name)
            if field is not None and field.args.get('default') is not None:
                defaults[name] = field.get_default(self)
        return defaults

    def _add_missing_default_values(self, values):
        missing = [name for name, field in self._fields.items()
                   if name not in values and name not in MAGIC_COLUMNS
                   and (field.column or isinstance(field, Many2many))]
        defaults = self.default_get(missing)
        return {**defaults, **values}

    def _prepare_column(self, field, value):
        value = field.convert_to_cache(value, self)
        nullable = ('char', 'text', 'html', 'selection', 'datetime', 'date', 'many2one')
        if field.type in nullable and value is False:
            return None
        if field.type == 'boolean':
            return bool(value)
        return value

    def _m2m_commands(self, field, value, current=()):
        ids = list(current)
        if not value:
            return []
        for command in value:
            if isinstance(command, int):
                ids = [*ids, command] if command not in ids else ids
            elif isinstance(command, (list, tuple)):
                code = command[0]
                if code == 6:
                    ids = list(command[2])
                elif code == 4:
                    ids = ids if command[1] in ids else [*ids, command[1]]
                elif code in (3, 2):
                    ids = [i for i in ids if i != command[1]]
                elif code == 5:
                    ids = []
                else:
                    raise ValueError(f"Unsupported x2many command {command!r}")
            else:
                raise ValueError(f"Wrong value for {field}: {value!r}")
        return ids

    @api.model_create_multi
    def create(self, vals_list):
        if self._abstract:
            raise TypeError(f"Abstract model {self._name!r} cannot be created")
        self.check_access_rights('create')
        cr = self.env.cr
        ids = []
        for vals in vals_list:
            self._check_field_names(vals)
            vals = self._add_missing_default_values(vals)
            columns, params, m2m = [], [], {}
            for name, value in vals.items():
                field = self._fields[name]
                if isinstance(field, Many2many):
                    m2m[field] = self._m2m_commands(field, value)
                    continue
                if name == 'id' or not field.column:
                    if name in MAGIC_COLUMNS or not field.compute:
                        continue
                    continue
                columns.append(name)
                params.append(self._prepare_column(field, value))
            if self._log_access:
                now = cr.now()
                for name, value in (('create_uid', self.env.uid), ('create_date', now),
                                    ('write_uid', self.env.uid), ('write_date', now)):
                    if name not in columns:
                        columns.append(name)
                        params.append(value)
            if columns:
                cr.execute('INSERT INTO "{}" ({}) VALUES ({}) RETURNING id'.format(
                    self._table, ', '.join(f'"{c}"' for c in columns), ', '.join(['%s'] * len(columns))),
                    params)
            else:
                cr.execute(f'INSERT INTO "{self._table}" DEFAULT VALUES RETURNING id')
            new_id = cr.fetchone()[0]
            ids.append(new_id)
            for field, rel_ids in m2m.items():
                self.browse(new_id)._write_many2many(field, rel_ids)
        records = self.browse(ids)
        records._validate_fields(set().union(*vals_list) if vals_list else set())
        return records

    def _write_many2many(self, field, ids):
        rel, col1, col2 = self._m2m_table(field)
        cr = self.env.cr
        cr.execute(f'DELETE FROM "{rel}" WHERE "{col1}" = %s', [self.id])
        for rel_id in unique(ids):
            cr.execute(f'INSERT INTO "{rel}" ("{col1}", "{col2}") VALUES (%s, %s)', [self.id, rel_id])
        self._cache(field)[self.id] = tuple(unique(ids))

    def write(self, vals):
        if not self:
            return True
        self.check_access_rights('write')
        self.check_field_access_rights('write', list(vals))
        self._check_field_names(vals)
        vals = dict(vals)
        if self._log_access:
            vals.setdefault('write_uid', self.env.uid)
            vals.setdefault('write_date', self.env.cr.now())
        towrite = self.env.transaction.towrite.setdefault(self._name, {})
        for name, value in vals.items():
            field = self._fields[name]
            if name == 'id':
                raise ValueError("field 'id' cannot be written")
            if isinstance(field, Many2many):
                for rec in self:
                    current = rec[name].ids
                    rec._write_many2many(field, self._m2m_commands(field, value, current))
                continue
            if not field.column:
                if field.inverse:
                    getattr(self, field.inverse)()
                continue
            column_value = self._prepare_column(field, value)
            cache_value = field.convert_to_cache(value, self)
            for id_ in self._ids:
                towrite.setdefault(id_, {})[name] = column_value
                self._cache(field)[id_] = cache_value
        self._validate_fields(set(vals))
        return True

    def _validate_fields(self, field_names):
        for method in self._constraint_methods:
            if set(method._constrains) & set(field_names):
                method(self)

    def unlink(self):
        if not self:
            return True
        self.check_access_rights('unlink')
        for method in self._ondelete_methods:
            method(self)
        self.env.flush_all()
        cr = self.env.cr
        # many2one ondelete, enforced by the ORM (the simulator creates no
        # foreign keys so that SQLite and PostgreSQL schemas stay identical)
        for model_name, model_cls in self.env.registry.models.items():
            for field in model_cls._fields.values():
                if field.type != 'many2one' or field.comodel_name != self._name or not field.column \
                        or not model_cls._auto or field.name in ('create_uid', 'write_uid'):
                    continue
                table = model_cls._table
                cr.execute(f'SELECT id FROM "{table}" WHERE "{field.name}" IN %s', [tuple(self._ids)])
                ref_ids = [row[0] for row in cr.fetchall()]
                if not ref_ids:
                    continue
                if field.ondelete == 'cascade':
                    self.env[model_name].sudo().browse(ref_ids).unlink()
                elif field.ondelete == 'restrict':
                    raise UserError(
                        "The operation cannot be completed: another model requires the record being "
                        f"deleted. If possible, archive it instead.\n\nModel: {model_cls._description} "
                        f"({model_name}), Constraint: {table}_{field.name}_fkey")
                else:
                    cr.execute(f'UPDATE "{table}" SET "{field.name}" = NULL WHERE id IN %s', [tuple(ref_ids)])
                    self.env[model_name].browse(ref_ids).invalidate_recordset([field.name], flush=False)
        cr.execute(f'DELETE FROM "{self._table}" WHERE id IN %s', [tuple(self._ids)])
        if self._name != 'ir.model.data' and 'ir.model.data' in self.env.registry:
            cr.execute('DELETE FROM ir_model_data WHERE model = %s AND res_id IN %s',
                       [self._name, tuple(self._ids)])
        self.invalidate_recordset(flush=False)
        return True

    # ------------------------------------------------------------------
    # search / read
    # ------------------------------------------------------------------
    def _where_calc(self, domain, active_test=True):
        from .osv.expression import expression_to_sql
        domain = list(domain or [])
        if (active_test and self.env.context.get('active_test', True) and 'active' in self._fields
                and not any(isinstance(leaf, (list, tuple)) and leaf[0] == 'active' for leaf in domain)):
            domain = [('active', '=', True)] + domain
        return expression_to_sql(self, domain)

    def _order_to_sql(self, order):
        order = order or self._order or 'id'
        parts = []
        for item in order.split(','):
            tokens = item.strip().split()
            if not tokens:
                continue
            name = tokens[0]
            direction = tokens[1].upper() if len(tokens) > 1 else 'ASC'
            if name not in self._fields or direction not in ('ASC', 'DESC'):
                raise ValueError(f"Invalid order {order!r} for model {self._name!r}")
            parts.append(f'"{self._table}"."{name}" {direction}')
        return ', '.join(parts)

    def _search(self, domain, offset=0, limit=None, order=None):
        self.check_access_rights('read')
        self.env.flush_all()
        where, params = self._where_calc(domain)
        query = (f'SELECT "{self._table}".id FROM "{self._table}" WHERE {where} '
                 f'ORDER BY {self._order_to_sql(order)}')
        if limit:
            query += f' LIMIT {int(limit)}'
        if offset:
            # SQLite only accepts OFFSET after a LIMIT
            no_limit = ' LIMIT -1 ' if self.env.cr.backend == 'sqlite' else ' '
            query += (' ' if limit else no_limit) + f'OFFSET {int(offset)}'
        self.env.cr.execute(query, params)
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def search(self, domain, offset=0, limit=None, order=None, **kwargs):
        if kwargs.get('count'):
            return self.search_count(domain)
        return self.browse(self._search(domain, offset=offset, limit=limit, order=order))

    @api.model
    def search_count(self, domain, limit=None):
        return len(self._search(domain, limit=limit))

    @api.model
    def search_fetch(self, domain, field_names, offset=0, limit=None, order=None):
        return self.search(domain, offset=offset, limit=limit, order=order)

    def read(self, fields=None, load='_classic_read'):
        accessible = self.check_field_access_rights('read', fields)
        self.check_access_rights('read')
        names = fields or [n for n in accessible
                           if self._fields[n].column or isinstance(self._fields[n], Many2many)]
        for name in names:
            if name not in self._fields:
                raise ValueError(f"Invalid field {name!r} on model {self._name!r}")
        result = []
        for rec in self:
            values = {'id': rec.id}
            for name in names:
                field = self._fields[name]
                if name == 'id':
                    continue
                if field.type == 'one2many':
                    values[name] = field.__get__(rec, type(rec)).ids
                    continue
                raw = rec._get_cache(field) if (field.store or field.compute) else False
                values[name] = field.convert_to_read(raw, rec) if load else raw
            result.append(values)
        return result

    @api.model
    def search_read(self, domain=None, fields=None, offset=0, limit=None, order=None, **read_kwargs):
        fields = self.check_field_access_rights('read', fields)
        records = self.search(domain or [], offset=offset, limit=limit, order=order)
        if not records:
            return []
        return records.read(fields, **read_kwargs)

    def fetch(self, field_names):
        """Load ``field_names`` of ``self`` in the cache: nothing to do (and
        nothing checked) for an empty recordset, as in Odoo."""
        if not self or not field_names:
            return
        self.check_field_access_rights('read', list(field_names))
        self.check_access_rights('read')
        for name in field_names:
            field = self._fields.get(name)
            if field is not None and (field.column or isinstance(field, Many2many)):
                self._fetch_field(field)

    def web_read(self, specification):
        """The web client's read (web module): the fields of ``specification``."""
        fields_to_read = list(specification) or ['id']
        return self.read(fields_to_read, load=None)

    def onchange(self, values, field_names, fields_spec):
        """The web client's onchange (web module), reduced: on the first call
        (no ``field_names``) the values of ``fields_spec`` from ``values`` and
        ``default_get``; ``@api.onchange`` methods are not run.  Access as in
        Odoo: 17.0/18.0 check nothing for a new record (``fetch`` of an empty
        recordset), 19.0 checks create access (write for a record)."""
        self.env.flush_all()
        if release.SERIE_MAJOR >= 19 and not (self and self._name == 'res.users'):
            self.check_access('write' if self else 'create')
        if any(fname not in self._fields for fname in field_names):
            return {}
        values = dict(values)
        first_call = not field_names
        if first_call:
            missing_names = [fname for fname in fields_spec if fname not in values]
            defaults = self.default_get(missing_names)
            for fname in missing_names:
                if fname in defaults:
                    values[fname] = defaults[fname]
                elif release.SERIE_MAJOR < 19:
                    values[fname] = False
        self.fetch(list(fields_spec))
        if not first_call:
            return {'value': {}}
        result = {}
        for fname in fields_spec:
            if fname in values:
                value = values[fname]
            elif self:
                value = self[fname]
            else:
                continue
            if isinstance(value, BaseModel):
                value = {'id': value.id, 'display_name': value.display_name} if len(value) == 1 \
                    else value.ids
            result[fname] = value
        return {'value': result}

    @api.model
    def fields_get(self, allfields=None, attributes=None):
        result = {}
        for name, field in self._fields.items():
            if allfields and name not in allfields:
                continue
            if not self._has_field_access(field, 'read'):
                continue
            desc = {'type': field.type, 'string': field.string or name.replace('_', ' ').title(),
                    'required': bool(field.required), 'readonly': bool(field.readonly),
                    'store': bool(field.column), 'help': field.help}
            if field.relational:
                desc['relation'] = field.comodel_name
            if field.type == 'selection':
                selection = field.args.get('selection')
                if isinstance(selection, str):
                    selection = getattr(self, selection)()
                elif callable(selection):
                    selection = selection(self)
                desc['selection'] = [list(pair) for pair in selection or []] + [
                    list(pair) for pair in field.args.get('selection_add', [])
                    if isinstance(pair, (tuple, list)) and len(pair) == 2]
            if attributes:
                desc = {k: v for k, v in desc.items() if k in attributes}
            result[name] = desc
        return result

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None,
                    order=None):
        """Odoo's ``_read_group`` (same signature on 17.0, 18.0 and 19.0): one tuple per group,
        the groupby values then the aggregates. Groups are computed in Python over the matching
        records: ``having`` and ``order`` other than the default are not simulated (refused);
        many2one groups are ordered by id, not by the comodel's ``_order``; date granularities
        day/week/month/quarter/year give the first day of the period, as on PostgreSQL."""
        self.check_access_rights('read')
        if having or order:
            raise NotImplementedError("_read_group: having/order are not simulated")
        groupby = [spec.strip() for spec in groupby if isinstance(spec, str) and spec.strip()]
        parsed_groupby = [self._sim_read_group_spec(spec, aggregate=False) for spec in groupby]
        parsed_aggregates = [self._sim_read_group_spec(spec, aggregate=True) for spec in aggregates]
        records = self.search(domain)
        if not records:
            if not groupby:
                return [tuple(self._sim_read_group_empty(spec, func) for spec, _f, func in
                              parsed_aggregates)]
            return []
        groups = defaultdict(list)
        for rec in records:
            key = tuple(self._sim_group_value(rec, fname, granularity)
                        for fname, granularity in parsed_groupby)
            groups[key].append(rec)
        keys = sorted(groups, key=lambda key: tuple((value is None, value if value is not None
                                                     else 0) for value in key))
        keys = keys[offset:offset + limit if limit else None]
        result = []
        for key in keys:
            recs = groups[key]
            row = []
            for (fname, _granularity), value in zip(parsed_groupby, key, strict=True):
                field = self._fields[fname]
                if field.relational or fname == 'id':
                    model = self.env[field.comodel_name if field.relational else self._name]
                    row.append(model.browse(value) if value else model)
                else:
                    row.append(value if value is not None else False)
            for spec, fname, func in parsed_aggregates:
                row.append(self._sim_aggregate(recs, spec, fname, func))
            result.append(tuple(row))
        return result

    def _sim_read_group_spec(self, spec, aggregate):
        if aggregate and spec == '__count':
            return spec, None, None
        fname, _, func = spec.partition(':')
        if fname not in self._fields:
            raise ValueError(f"Invalid field {fname!r} on model {self._name!r}"
                             + (f" for {spec!r}." if aggregate else ""))
        self._check_field_access(self._fields[fname], 'read')
        if not aggregate:
            field = self._fields[fname]
            if func and func not in ('day', 'week', 'month', 'quarter', 'year'):
                raise ValueError(f"Invalid granularity {func!r} for {spec!r}")
            if field.type in ('date', 'datetime') and func:
                return fname, func
            if func:
                raise ValueError(f"Granularity set on a no-datetime field or property: {spec!r}")
            if not (field.column or field.type == 'many2many'):
                raise ValueError(f"Field {field} is not a stored field, only stored fields "
                                 f"(regular or many2many) are valid for the 'groupby' parameter")
            return fname, None
        if not func:
            raise ValueError(f"Aggregate method is mandatory for {fname!r}")
        if func not in _SIM_AGGREGATES:
            raise ValueError(f"Invalid aggregate method {func!r} for {spec!r}.")
        field = self._fields[fname]
        if func == 'recordset' and not (field.relational or fname == 'id'):
            raise ValueError(f"Aggregate method {func!r} can be only used on relational field "
                             f"(or id) (for {spec!r}).")
        return spec, fname, func

    def _sim_group_value(self, rec, fname, granularity):
        field = self._fields[fname]
        if fname == 'id':
            return rec.id
        value = rec[fname]
        if field.relational:
            return value.id or None
        if field.type == 'boolean':
            return bool(value)
        if value is False or value is None:
            return None
        if granularity:
            import datetime
            day = value.date() if isinstance(value, datetime.datetime) else value
            if granularity == 'week':
                day = day - datetime.timedelta(days=day.weekday())
            elif granularity == 'month':
                day = day.replace(day=1)
            elif granularity == 'quarter':
                day = day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
            elif granularity == 'year':
                day = day.replace(month=1, day=1)
            return day if field.type == 'date' else datetime.datetime.combine(day, datetime.time())
        return value

    def _sim_read_group_empty(self, spec, func):
        if spec == '__count' or func in ('count', 'count_distinct'):
            return 0
        if func == 'array_agg':
            return []
        fname = spec.partition(':')[0]
        field = self._fields[fname]
        if func == 'recordset':
            return self.env[field.comodel_name] if field.relational else self.env[self._name]
        return False

    def _sim_aggregate(self, recs, spec, fname, func):
        if spec == '__count':
            return len(recs)
        field = self._fields[fname]
        if fname == 'id':
            values = [rec.id for rec in recs]
        elif field.relational:
            values = [rec[fname].id or None for rec in recs] if field.type == 'many2one' else \
                [id_ for rec in recs for id_ in rec[fname].ids]
        else:
            values = [None if rec[fname] is False and field.type != 'boolean' else rec[fname]
                      for rec in recs]
        present = [value for value in values if value is not None]
        if func == 'count':
            return len(present)
        if func == 'count_distinct':
            return len(set(present))
        if func == 'array_agg':
            return values
        if func == 'recordset':
            model = self.env[field.comodel_name if field.relational else self._name]
            return model.browse(list(unique(present)))
        if not present:
            return False
        if func == 'sum':
            return sum(present)
        if func == 'avg':
            return sum(present) / len(present)
        if func == 'min':
            return min(present)
        if func == 'max':
            return max(present)
        if func == 'bool_and':
            return all(present)
        return any(present)  # bool_or

    @api.model
    def name_search(self, name='', domain=None, operator='ilike', limit=100):
        domain = list(domain or [])
        if name and self._rec_name:
            domain.append((self._rec_name, operator, name))
        return [(rec.id, rec.display_name) for rec in self.search(domain, limit=limit)]

    def copy(self, default=None):
        self.ensure_one()
        vals = {}
        for name, field in self._fields.items():
            if name in MAGIC_COLUMNS or not field.column or not field.copy:
                continue
            value = self[name]
            vals[name] = value.id if isinstance(value, BaseModel) else value
        vals.update(default or {})
        return self.create(vals)

    def _load_records(self, data_list, update=False):
        """Create or update records with external ids (data files)."""
        imd = self.env['ir.model.data']
        records = self.browse()
        for data in data_list:
            xml_id = data.get('xml_id')
            values = data['values']
            record = None
            if xml_id:
                module, name = xml_id.split('.', 1)
                existing = imd.search([('module', '=', module), ('name', '=', name)], limit=1)
                if existing and existing.model == self._name:
                    record = self.browse(existing.res_id).exists() or None
                    if record is not None and update and existing.noupdate:
                        records |= record
                        continue
                    if record is None:
                        existing.unlink()
            if record is not None:
                record.write(values)
            else:
                record = self.create(values)
                if xml_id:
                    imd.create({'module': module, 'name': name, 'model': self._name,
                                'res_id': record.id, 'noupdate': bool(data.get('noupdate'))})
            records |= record
        return records

    def get_external_id(self):
        imd = self.env['ir.model.data'].sudo().search(
            [('model', '=', self._name), ('res_id', 'in', self.ids)])
        res = dict.fromkeys(self.ids, '')
        for rec in imd:
            res[rec.res_id] = f'{rec.module}.{rec.name}'
        return res


class AbstractModel(BaseModel):
    _auto = False
    _register = False
    _abstract = True
    _transient = False


class Model(AbstractModel):
    _auto = True
    _register = False
    _abstract = False
    _transient = False


class TransientModel(Model):
    _auto = True
    _register = False
    _abstract = False
    _transient = True
    _transient_max_count = 0
    _transient_max_hours = 1.0


# kept for code doing `except models.ValidationError` style imports
__all__ = ['BaseModel', 'AbstractModel', 'Model', 'TransientModel', 'MetaModel',
           'ValidationError', 'MissingError', 'NewId']
