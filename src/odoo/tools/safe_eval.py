"""A small ``safe_eval`` (odoo/tools/safe_eval.py checks opcodes; we check
the AST): no imports, no dunder attributes, no builtins beyond a whitelist.
Used for ``eval=`` in XML data, ``<function>`` arguments and ``ir.cron``
code, so those fail on the same kind of code real Odoo refuses."""
import ast
import datetime
import time

_BUILTINS = {
    name: __builtins__[name] if isinstance(__builtins__, dict) else getattr(__builtins__, name)
    for name in ('True', 'False', 'None', 'bool', 'int', 'float', 'str', 'dict', 'list',
                 'tuple', 'set', 'len', 'min', 'max', 'sum', 'abs', 'round', 'sorted',
                 'enumerate', 'range', 'zip', 'any', 'all', 'map', 'filter', 'repr',
                 'isinstance', 'Exception', 'ValueError', 'TypeError', 'KeyError')
}


def _check(tree, expr):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal)):
            raise ValueError(f"forbidden opcode(s) in {expr!r}: IMPORT_NAME")
        if isinstance(node, ast.Attribute) and node.attr.startswith('_') and node.attr.startswith('__'):
            raise NameError(f"Access to forbidden name {node.attr!r} ({expr!r})")
        if isinstance(node, ast.Name) and node.id.startswith('__'):
            raise NameError(f"Access to forbidden name {node.id!r} ({expr!r})")


def safe_eval(expr, globals_dict=None, locals_dict=None, mode="eval", nocopy=False):
    if not isinstance(expr, str):
        raise TypeError("safe_eval does not allow direct evaluation of code objects.")
    tree = ast.parse(expr.strip() if mode == 'eval' else expr, mode=mode)
    _check(tree, expr)
    if globals_dict is not None and not nocopy:
        globals_dict = dict(globals_dict)
    globals_dict = globals_dict if globals_dict is not None else {}
    globals_dict['__builtins__'] = dict(_BUILTINS)
    code = compile(tree, '<safe_eval>', mode)
    if mode == 'eval':
        return eval(code, globals_dict, locals_dict)  # noqa: S307 - checked above
    exec(code, globals_dict, locals_dict)  # noqa: S102 - checked above
    return None


# modules exposed to evaluated code, as wrappers in real odoo
wrapped_time = time
wrapped_datetime = datetime
