"""Environments and method decorators (odoo/api.py).

An ``Environment(cr, uid, context, su=False)`` is cheap and shared: all
environments on one cursor share one ``Transaction`` holding the record
cache and the pending (not yet flushed) writes, like real Odoo.  As in real
Odoo the cache is only dropped on commit/rollback/invalidation, so raw SQL
changes are NOT seen through the ORM until then.

``Transaction.envs`` is a weak set, as in real Odoo (17/18 odoo/api.py, 19
odoo/orm/environments.py): pending writes are flushed at commit through a
live environment only.  Writes made through an environment that was garbage
collected before the commit are dropped with the cache, while raw SQL of the
same transaction commits.  19.0 keeps one strong reference,
``Transaction.default_env`` (the first environment with a user id).
"""
import functools
import logging
import weakref
from collections.abc import Mapping

from . import SUPERUSER_ID, release
from .exceptions import AccessError  # noqa: F401
from .tools.translate import _ as _translate

_logger = logging.getLogger(__name__)

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
class _OrderedSet:
    """The ``data`` of an ordered WeakSet (real Odoo: ``OrderedSet``)."""
    __slots__ = ['_map']

    def __init__(self):
        self._map = {}

    def add(self, item):
        self._map[item] = None

    def discard(self, item):
        self._map.pop(item, None)

    def remove(self, item):
        del self._map[item]

    def __contains__(self, item):
        return item in self._map

    def __iter__(self):
        return iter(list(self._map))

    def __len__(self):
        return len(self._map)


class Transaction:
    def __init__(self, registry):
        self.registry = registry
        # weak set of environments, in creation order: an environment nobody
        # references any more is gone, with the writes only it could flush
        self.envs = weakref.WeakSet()
        self.envs.data = _OrderedSet()
        if release.SERIE_MAJOR >= 19:
            # 19.0: the first environment with a valid uid, held strongly
            self.default_env = None
        self.cache = {}      # (model, field) -> {id: cache value}
        self.towrite = {}    # model -> {id: {field: column value}}

    def flush(self):
        """Flush the pending writes through a live environment, as Odoo does:
        none alive, nothing is written (the commit then drops them)."""
        if release.SERIE_MAJOR >= 19:
            if self.default_env is not None:
                self.default_env.flush_all()
            else:
                for env in self.envs:
                    _logger.warning("Missing default_env, flushing as public user")
                    public_user = env.ref('base.public_user')
                    Environment(env.cr, public_user.id, {}).flush_all()
                    break
            return
        env_to_flush = None
        for env in self.envs:
            if isinstance(env.uid, int) or env.uid is None:
                env_to_flush = env
                if env.uid is not None:
                    break
        if env_to_flush is not None:
            env_to_flush.flush_all()

    def _flush_towrite(self, env):
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
        transaction.envs.add(self)
        if (release.SERIE_MAJOR >= 19 and transaction.default_env is None
                and uid and isinstance(uid, int)):
            transaction.default_env = self
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
        """As in Odoo: the first of the context's allowed_company_ids, else the user's company
        (multi-company access checks are not simulated)."""
        company_ids = self.context.get('allowed_company_ids') or []
        if company_ids:
            return self['res.company'].browse(company_ids[0])
        return self.user.company_id.with_env(self)

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
        self.transaction._flush_towrite(self)

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
