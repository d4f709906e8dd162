"""``ormcache``: per-registry (hence per-process) memoization.

Like odoo/tools/cache.py the values live in the registry's cache containers
(``registry._Registry__caches``), selected by the ``cache`` argument
('default' unless told; 19.0 puts ``_get_param`` in 'stable').  Nothing
invalidates them but ``registry.clear_cache()`` or the inter-process
signaling, which is the point: stale values are real."""
import functools
import inspect

from ..exceptions import CacheMiss  # noqa: F401  (re-exported like odoo)


class ormcache:
    def __init__(self, *args, cache='default', skiparg=None, **kwargs):
        self.args = args
        self.cache_name = cache
        self.skiparg = skiparg

    def __call__(self, method):
        self.method = method
        sig = inspect.signature(method)
        params = list(sig.parameters)[1:]
        args = self.args
        if args:
            code = 'lambda self, {}: ({},)'.format(
                ', '.join(p if sig.parameters[p].default is inspect.Parameter.empty
                          else f'{p}={sig.parameters[p].default!r}' for p in params),
                ', '.join(args))
            # the key expressions are the decorator's own source text
            self.key = eval(code)  # noqa: S307
        else:
            self.key = lambda self, *a, **kw: (a, tuple(sorted(kw.items())))
        decorator = self

        @functools.wraps(method)
        def lookup(model, *args, **kwargs):
            return decorator.lookup(model, *args, **kwargs)
        lookup.__cache__ = self
        return lookup

    def lookup(self, model, *args, **kwargs):
        cache = model.pool._Registry__caches[self.cache_name]
        key = (model._name, self.method.__qualname__, *self.key(model, *args, **kwargs))
        try:
            return cache[key]
        except KeyError:
            value = cache[key] = self.method(model, *args, **kwargs)
            return value
        except TypeError:
            return self.method(model, *args, **kwargs)


class ormcache_context(ormcache):
    def __init__(self, *args, keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.context_keys = keys
