import collections
import functools


class Callbacks:
    """Queue of callables run in insertion order then emptied (odoo/tools/misc.py).

    Used for ``cr.precommit`` / ``cr.postcommit`` / ``cr.prerollback`` /
    ``cr.postrollback``."""
    __slots__ = ['_funcs', 'data']

    def __init__(self):
        self._funcs = collections.deque()
        self.data = {}

    def add(self, func):
        self._funcs.append(func)
        return func

    def run(self):
        while self._funcs:
            self._funcs.popleft()()
        self.clear()

    def clear(self):
        self._funcs.clear()
        self.data.clear()

    def __len__(self):
        return len(self._funcs)


def str2bool(s, default=None):
    s = str(s).lower()
    if s in ('y', 'yes', '1', 'true', 't', 'on'):
        return True
    if s in ('n', 'no', '0', 'false', 'f', 'off'):
        return False
    if default is None:
        raise ValueError('Use 0/1/yes/no/true/false/on/off')
    return bool(default)


class lazy_property:
    """Computed once per instance, then stored in the instance dict."""

    def __init__(self, fget):
        self.fget = fget
        functools.update_wrapper(self, fget)

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, obj, cls):
        if obj is None:
            return self
        value = self.fget(obj)
        obj.__dict__[self.fget.__name__] = value
        return value


def unique(it):
    seen = set()
    for e in it:
        if e not in seen:
            seen.add(e)
            yield e
