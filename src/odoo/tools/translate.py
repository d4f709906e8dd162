"""Translations are not simulated: ``_`` formats like Odoo's does (positional
or named arguments) but returns the source string."""


def _(source, *args, **kwargs):
    if args and kwargs:
        raise ValueError("_() takes either positional or named arguments, not both")
    if args:
        return source % args
    if kwargs:
        return source % kwargs
    return source


class LazyTranslate:
    def __init__(self, module=None):
        self.module = module

    def __call__(self, source, *args, **kwargs):
        return _(source, *args, **kwargs)
