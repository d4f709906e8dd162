"""Field types (odoo/fields.py): descriptors reading through the transaction
cache, writing through ``write()``; column types per backend."""
import datetime

from .tools.misc import str2bool  # noqa: F401

Default = object()


class Field:
    type = None
    column_type = None          # (postgresql, sqlite)
    relational = False
    _slots_defaults = {
        'string': None, 'help': None, 'required': False, 'readonly': False,
        'default': None, 'store': True, 'index': False, 'copy': True,
        'compute': None, 'inverse': None, 'related': None, 'groups': None,
        'config_parameter': None, 'translate': False, 'company_dependent': False,
        'ondelete': None, 'selection': None, 'size': None, 'tracking': None,
        'aggregator': None, 'group_operator': None, 'precompute': False,
        'comodel_name': None, 'relation': None, 'column1': None, 'column2': None,
        'domain': None, 'context': None, 'auto_join': False, 'delegate': False,
        'implied_group': None, 'default_model': None, 'digits': None, 'sanitize': True,
        'change_default': False, 'depends': None, 'states': None, 'recursive': False,
        'trim': True, 'password': False, 'prefetch': True, 'unaccent': True,
        'check_company': False, 'bypass_search_access': False, 'default_export_compatible': False,
    }

    def __init__(self, string=Default, **kwargs):
        if string is not Default:
            kwargs['string'] = string
        self.args = kwargs
        self.name = None
        self.model_name = None

    def __set_name__(self, owner, name):
        if self.name is None:
            self.name = name

    def __getattr__(self, name):
        if name in Field._slots_defaults:
            return self.args.get(name, Field._slots_defaults[name])
        raise AttributeError(name)

    def __repr__(self):
        return f"{self.model_name}.{self.name}"

    def new(self, **kwargs):
        """A copy with merged attributes (model set-up, see models.py)."""
        field = type(self)(**{**self.args, **kwargs})
        return field

    # column
    @property
    def column(self):
        if not self.store or self.column_type is None or self.compute and not self.args.get('store'):
            return False
        return True

    def sql_type(self, backend):
        return self.column_type[0 if backend == 'postgresql' else 1]

    # conversions
    def convert_to_cache(self, value, record, validate=True):
        return value

    def convert_to_column(self, value, record):
        return value

    def convert_to_record(self, value, record):
        return value

    def convert_to_read(self, value, record):
        return self.convert_to_record(value, record)

    def null(self, record):
        return False

    def get_default(self, model):
        default = self.args.get('default')
        if callable(default):
            return default(model)
        return default

    # descriptor
    def __get__(self, record, owner=None):
        if record is None:
            return self
        if not record._ids:
            return self.null(record)
        if len(record._ids) != 1:
            raise ValueError(f"Expected singleton: {record}")
        value = record._get_cache(self)
        return self.convert_to_record(value, record)

    def __set__(self, records, value):
        records.write({self.name: value})


class Id(Field):
    type = 'integer'

    def __get__(self, record, owner=None):
        if record is None:
            return self
        if not record._ids:
            return False
        if len(record._ids) == 1:
            return record._ids[0]
        raise ValueError(f"Expected singleton: {record}")

    def __set__(self, record, value):
        raise TypeError("field 'id' cannot be assigned")


class Boolean(Field):
    type = 'boolean'
    column_type = ('boolean', 'BOOLEAN')

    def convert_to_cache(self, value, record, validate=True):
        return bool(value)

    def convert_to_column(self, value, record):
        return bool(value)


class Integer(Field):
    type = 'integer'
    column_type = ('int4', 'INTEGER')

    def convert_to_cache(self, value, record, validate=True):
        if isinstance(value, dict):
            value = value.get('id', False)
        return int(value or 0)

    def convert_to_record(self, value, record):
        return value or 0

    def null(self, record):
        return 0


class Float(Field):
    type = 'float'
    column_type = ('numeric', 'REAL')

    def convert_to_cache(self, value, record, validate=True):
        return float(value or 0.0)

    def null(self, record):
        return 0.0


class _String(Field):
    def convert_to_cache(self, value, record, validate=True):
        if value is None or value is False:
            return False
        return str(value)


class Char(_String):
    type = 'char'
    column_type = ('varchar', 'VARCHAR')

    def convert_to_cache(self, value, record, validate=True):
        value = super().convert_to_cache(value, record, validate)
        if value and self.size:
            value = value[:self.size]
        return value


class Text(_String):
    type = 'text'
    column_type = ('text', 'TEXT')


class Html(_String):
    type = 'html'
    column_type = ('text', 'TEXT')


class Selection(Field):
    type = 'selection'
    column_type = ('varchar', 'VARCHAR')

    def __init__(self, selection=Default, string=Default, **kwargs):
        if selection is not Default:
            kwargs['selection'] = selection
        super().__init__(string=string, **kwargs)

    def get_values(self, record):
        selection = self.args.get('selection')
        if isinstance(selection, str):
            selection = getattr(record, selection)()
        elif callable(selection):
            selection = selection(record)
        values = [value for value, _label in selection or []]
        for extra in self.args.get('selection_add', []):
            if isinstance(extra, (tuple, list)) and len(extra) == 2:
                values.append(extra[0])
        return values

    def convert_to_cache(self, value, record, validate=True):
        if not value:
            return False
        if validate and value not in self.get_values(record):
            raise ValueError(f"Wrong value for {self}: {value!r}")
        return value


class Datetime(Field):
    type = 'datetime'
    column_type = ('timestamp', 'TIMESTAMP')

    # real Odoo runs with TZ=UTC; the simulator asks for UTC explicitly
    @staticmethod
    def now(*args):
        return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None, microsecond=0)

    @staticmethod
    def today(*args):
        return Datetime.now().replace(hour=0, minute=0, second=0)

    @staticmethod
    def to_datetime(value):
        if not value:
            return None
        if isinstance(value, datetime.datetime):
            if value.tzinfo:
                raise ValueError(f"Datetime field expects a naive datetime: {value}")
            return value
        if isinstance(value, datetime.date):
            return datetime.datetime.combine(value, datetime.time.min)
        value = str(value)
        return datetime.datetime.fromisoformat(value.replace('T', ' ')[:26])

    from_string = to_datetime

    @staticmethod
    def to_string(value):
        return value.strftime('%Y-%m-%d %H:%M:%S') if value else False

    @staticmethod
    def context_timestamp(record, timestamp):
        # users' time zones are not simulated: UTC everywhere
        return timestamp.replace(tzinfo=datetime.timezone.utc)

    def convert_to_cache(self, value, record, validate=True):
        if not value:
            return False
        return self.to_datetime(value).replace(microsecond=0)


class Date(Field):
    type = 'date'
    column_type = ('date', 'DATE')

    @staticmethod
    def today(*args):
        return datetime.date.today()

    @staticmethod
    def to_date(value):
        if not value:
            return None
        if isinstance(value, datetime.datetime):
            return value.date()
        if isinstance(value, datetime.date):
            return value
        return datetime.date.fromisoformat(str(value)[:10])

    def convert_to_cache(self, value, record, validate=True):
        return self.to_date(value) or False


class Many2one(Field):
    type = 'many2one'
    column_type = ('int4', 'INTEGER')
    relational = True

    def __init__(self, comodel_name=Default, string=Default, **kwargs):
        if comodel_name is not Default:
            kwargs['comodel_name'] = comodel_name
        kwargs.setdefault('ondelete', 'set null')
        super().__init__(string=string, **kwargs)

    def convert_to_cache(self, value, record, validate=True):
        if not value:
            return False
        if hasattr(value, '_name'):
            if value._name != self.comodel_name:
                raise ValueError(f"Wrong value for {self}: {value!r}")
            return value.id
        if isinstance(value, (tuple, list)):
            value = value[0]
        return int(value)

    def convert_to_record(self, value, record):
        comodel = record.env[self.comodel_name]
        return comodel.browse(value or ())

    def convert_to_read(self, value, record):
        if not value:
            return False
        rec = record.env[self.comodel_name].sudo().browse(value)
        return (value, rec.display_name)

    def null(self, record):
        return record.env[self.comodel_name]


class Many2many(Field):
    """Stored in a relation table (``relation``, ``column1``, ``column2``).
    Write values: a list of ids, or commands (6, 0, ids) / (4, id) / (3, id)
    / (5,)."""
    type = 'many2many'
    relational = True

    def __init__(self, comodel_name=Default, relation=Default, column1=Default,
                 column2=Default, string=Default, **kwargs):
        for key, value in (('comodel_name', comodel_name), ('relation', relation),
                           ('column1', column1), ('column2', column2)):
            if value is not Default:
                kwargs[key] = value
        super().__init__(string=string, **kwargs)

    @property
    def column(self):
        return False

    def convert_to_cache(self, value, record, validate=True):
        return tuple(value or ())

    def convert_to_record(self, value, record):
        return record.env[self.comodel_name].browse(value or ())

    def convert_to_read(self, value, record):
        return list(value or ())

    def null(self, record):
        return record.env[self.comodel_name]


class One2many(Field):
    type = 'one2many'
    relational = True

    def __init__(self, comodel_name=Default, inverse_name=Default, string=Default, **kwargs):
        if comodel_name is not Default:
            kwargs['comodel_name'] = comodel_name
        if inverse_name is not Default:
            kwargs['inverse_name'] = inverse_name
        super().__init__(string=string, **kwargs)

    @property
    def column(self):
        return False

    def __get__(self, record, owner=None):
        if record is None:
            return self
        record.ensure_one()
        return record.env[self.comodel_name].search([(self.args['inverse_name'], '=', record.id)])

    def convert_to_read(self, value, record):
        return list(value or ())


class Json(Field):
    type = 'json'
    column_type = ('jsonb', 'TEXT')


class Binary(Field):
    type = 'binary'
    column_type = ('bytea', 'BLOB')

    def __init__(self, string=Default, **kwargs):
        kwargs.setdefault('attachment', True)
        super().__init__(string=string, **kwargs)
