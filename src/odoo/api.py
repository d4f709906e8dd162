"""Environments and method decorators (odoo/api.py).

An ``Environment(cr, uid, context, su=False)`` is cheap and shared: all
environments on one cursor share one ``Transaction`` holding the record
cache and the pending (not yet flushed) writes, like real Odoo.  As in real
Odoo the cache is only dropped on commit/rollback/invalidation, so raw SQL
changes are NOT seen through the ORM until then.
"""
import functools
from collections.abc import Mapping

from . import SUPERUSER_ID
from .exceptions import AccessError  # noqa: F401
from .tools.translate import _ as _translate

__all__ = ['Environment', 'model', 'model_create_multi', 'depends', 'constrains',
           'onchange', 'ondelete', 'autovacuum', 'returns', 'SUPERUSER_ID']


# ---------------------------------------------------------------------------
# decorators
# ---------------------------------------------------------------------------
def model(method):
    if method.__name__ == 'create':
        return model_create_single(method)
    method._api = 'model'
    return method


def model_create_single(method):
    # real odoo accepts (and warns about) create(self, vals) with a dict
    @functools.wraps(method)
    def create(self, vals_list):
        if isinstance(vals_list, Mapping):
            return method(self, vals_list)
        records = self.browse()
        for vals in vals_list:
            records |= method(self, vals)
        return records
    create._api = 'model_create_multi'
    return create


def model_create_multi(method):
    @functools.wraps(method)
    def create(self, vals_list):
        if isinstance(vals_list, Mapping):
            vals_list = [vals_list]
        return method(self, vals_list)
    create._api = 'model_create_multi'
    return create


def _marker(attribute):
    """A decorator factory that only records its arguments on the method, as Odoo's do."""
    def factory(*args):
        def decorator(method):
            setattr(method, attribute, args)
            return method
        return decorator
    return factory


depends = _marker('_depends')
depends_context = _marker('_depends_context')
constrains = _marker('_constrains')
onchange = _marker('_onchange')


def ondelete(*, at_uninstall):
    def decorator(method):
        method._ondelete = at_uninstall
        return method
    return decorator


def autovacuum(method):
    method._autovacuum = True
    return method


def returns(model, downgrade=None, upgrade=None):
    def decorator(method):
        return method
    return decorator


def private(method):
    method._api_private = True
    return method


# ---------------------------------------------------------------------------
# Transaction: cache + pending writes shared by the environments of a cursor
# ---------------------------------------------------------------------------
class Transaction:
    def __init__(self, registry):
        self.registry = registry
        self.envs = []
        self.cache = {}      # (model, field) -> {id: cache value}
        self.towrite = {}    # model -> {id: {field: column value}}

    def flush(self):
        env = next((e for e in self.envs if e.cr.transaction is self), None)
        if env is None:
            return
        while self.towrite:
            model_name = next(iter(self.towrite))
            env[model_name].flush_model()

    def clear(self):
        self.cache.clear()
        self.towrite.clear()

    def reset(self):
        self.clear()


class Environment(Mapping):
    """``env = Environment(cr, uid, context, su=False)``; ``uid`` may be None
    (no user: what ``auth='none'`` routes get)."""

    def __new__(cls, cr, uid, context, su=False):
        from .sql_db import BaseCursor
        assert isinstance(cr, BaseCursor), cr
        if uid == SUPERUSER_ID:
            su = True
        context = dict(context or {})
        transaction = cr.transaction
        if transaction is None:
            from .modules.registry import Registry
            registry = Registry(cr.dbname)
            if registry.ready:
                # each new transaction looks for invalidations signaled by
                # other processes (real Odoo: at each request / cron job)
                registry = registry.check_signaling()
            transaction = cr.transaction = Transaction(registry)
        for env in transaction.envs:
            if env.cr is cr and env.uid == uid and env.su == su and env.context == context:
                return env
        self = object.__new__(cls)
        self.cr = cr
        self.uid = uid
        self.context = context
        self.su = su
        self.transaction = transaction
        self.registry = transaction.registry
        transaction.envs.append(self)
        return self

    # Mapping over models
    def __getitem__(self, model_name):
        return self.registry[model_name]._browse(self, (), ())

    def __contains__(self, model_name):
        return model_name in self.registry

    def __iter__(self):
        return iter(self.registry)

    def __len__(self):
        return len(self.registry)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other

    def __hash__(self):
        return object.__hash__(self)

    def __repr__(self):
        return f"<Environment db={self.cr.dbname!r} uid={self.uid!r} su={self.su}>"

    def __call__(self, cr=None, user=None, context=None, su=None):
        cr = self.cr if cr is None else cr
        uid = self.uid if user is None else int(user)
        context = self.context if context is None else context
        su = (user is None and self.su) if su is None else su
        return Environment(cr, uid, context, su)

    @property
    def pool(self):
        return self.registry

    @property
    def user(self):
        return self(su=True)['res.users'].browse(self.uid)

    @property
    def company(self):
        raise NotImplementedError("companies are not simulated")

    @property
    def lang(self):
        return self.context.get('lang') or 'en_US'

    def _(self, source, *args, **kwargs):
        return _translate(source, *args, **kwargs)

    def ref(self, xml_id, raise_if_not_found=True):
        res_model, res_id = self['ir.model.data']._xmlid_to_res_model_res_id(
            xml_id, raise_if_not_found=raise_if_not_found)
        if res_model and res_id:
            record = self[res_model].browse(res_id)
            if record.exists():
                return record
            if raise_if_not_found:
                raise ValueError(f'No record found for unique ID {xml_id}. It may have been deleted.')
        return None

    def is_superuser(self):
        return self.su

    def is_admin(self):
        return self.su or self.user._is_admin()

    def is_system(self):
        return self.su or self.user._is_system()

    def flush_all(self):
        self.transaction.flush()

    def invalidate_all(self, flush=True):
        if flush:
            self.flush_all()
        self.transaction.cache.clear()

    def reset(self):
        self.transaction.reset()

    def execute_query(self, query):
        self.flush_all()
        self.cr.execute(query)
        if self.cr.description is None:
            return []
        return self.cr.fetchall()
