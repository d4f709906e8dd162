"""Domains to SQL (odoo/osv/expression.py), for plain stored fields of the
model itself: ``[(field, op, value), ...]`` implicitly ANDed, with prefix
``'&'``, ``'|'``, ``'!'``.  Dotted paths are not supported (ValueError)."""
from ..models import BaseModel

TRUE_LEAF = (1, '=', 1)
FALSE_LEAF = (0, '=', 1)
OPERATORS = ('=', '!=', '<>', '<', '>', '<=', '>=', 'in', 'not in', 'like', 'ilike',
             'not like', 'not ilike', '=like', '=ilike', 'child_of', 'parent_of')


def _escape_like(value):
    return str(value).replace('\\', '\\\\').replace('%', '\\%').replace('_', '\\_')


def _leaf_to_sql(model, leaf):
    if leaf in (TRUE_LEAF, list(TRUE_LEAF)):
        return 'TRUE', []
    if leaf in (FALSE_LEAF, list(FALSE_LEAF)):
        return 'FALSE', []
    if not isinstance(leaf, (list, tuple)) or len(leaf) != 3:
        raise ValueError(f"Invalid leaf {leaf!r}")
    fname, op, value = leaf
    op = op.lower()
    if op not in OPERATORS or op in ('child_of', 'parent_of'):
        raise ValueError(f"Invalid domain term {leaf!r}")
    if '.' in fname:
        raise ValueError(f"Dotted domain paths are not simulated: {leaf!r}")
    field = model._fields.get(fname)
    if field is None:
        raise ValueError(f"Invalid field {model._name}.{fname} in leaf {leaf!r}")
    column = f'"{model._table}"."{fname}"'
    backend = model.env.cr.backend
    if isinstance(value, BaseModel):
        value = value.ids if op in ('in', 'not in') else value.id
    if field.type == 'many2many':
        rel, col1, col2 = model._m2m_table(field)
        ids = value if isinstance(value, (list, tuple)) else [value]
        sub = f'"{model._table}".id IN (SELECT "{col1}" FROM "{rel}" WHERE "{col2}" IN %s)'
        if op in ('=', 'in'):
            return (sub, [tuple(ids)]) if ids and ids != [False] else (
                f'"{model._table}".id NOT IN (SELECT "{col1}" FROM "{rel}")', [])
        if op in ('!=', 'not in'):
            return 'NOT (' + sub + ')', [tuple(ids)]
        raise ValueError(f"Operator {op!r} not simulated on many2many {leaf!r}")
    if op == '<>':
        op = '!='
    if op in ('in', 'not in'):
        values = list(value) if isinstance(value, (list, tuple, set)) else [value]
        has_false = False in values or None in values
        values = [v for v in values if v is not False and v is not None]
        if op == 'in':
            parts = []
            if values:
                parts.append((f'{column} IN %s', [tuple(values)]))
            if has_false:
                parts.append((f'{column} IS NULL', []))
            if not parts:
                return 'FALSE', []
            return '(' + ' OR '.join(p for p, _ in parts) + ')', [x for _, ps in parts for x in ps]
        parts = []
        if values:
            parts.append((f'({column} IS NULL OR {column} NOT IN %s)' if not has_false
                           else f'{column} NOT IN %s', [tuple(values)]))
        if has_false:
            parts.append((f'{column} IS NOT NULL', []))
        if not parts:
            return 'TRUE', []
        return '(' + ' AND '.join(p for p, _ in parts) + ')', [x for _, ps in parts for x in ps]
    if op in ('=', '!=') and (value is False or value is None):
        if field.type == 'boolean':
            return (f'({column} IS NULL OR {column} = FALSE)' if op == '=' else f'{column} = TRUE'), []
        return (f'{column} IS NULL' if op == '=' else f'{column} IS NOT NULL'), []
    if field.type == 'boolean' and op in ('=', '!='):
        value = bool(value)
        if (op == '=') != value:
            return f'({column} IS NULL OR {column} = FALSE)', []
        return f'{column} = TRUE', []
    if op in ('like', 'ilike', 'not like', 'not ilike'):
        negate = op.startswith('not')
        if backend == 'sqlite' and not op.endswith('ilike'):
            # SQLite LIKE ignores case: use a case sensitive substring test
            sql = f"(instr({column}, %s) > 0)"
            return (f'({column} IS NULL OR NOT {sql})' if negate else sql), [str(value)]
        sql_op = 'LIKE' if backend == 'sqlite' or not op.endswith('ilike') else 'ILIKE'
        sql = f"{column} {sql_op} %s ESCAPE '\\'"
        pattern = f'%{_escape_like(value)}%'
        return (f'({column} IS NULL OR NOT ({sql}))' if negate else sql), [pattern]
    if op in ('=like', '=ilike'):
        sql_op = 'ILIKE' if op == '=ilike' and backend != 'sqlite' else 'LIKE'
        return f'{column} {sql_op} %s', [str(value)]
    if field.type in ('many2one',) and isinstance(value, str) and op in ('=', '!='):
        raise ValueError(f"Name search on many2one is not simulated: {leaf!r}")
    if isinstance(value, bool) and field.type != 'boolean':
        value = int(value)
    if op == '!=':
        return f'({column} IS NULL OR {column} != %s)', [value]
    return f'{column} {op} %s', [value]


def _parse(model, domain, pos):
    """The Polish-notation term at ``pos``: (sql, params, next position).  A
    plain recursive function, not a closure: a self-referencing closure over
    ``model`` would be a reference cycle keeping its environment alive until
    the garbage collector runs, where Odoo frees it at once."""
    token = domain[pos]
    pos += 1
    if token == '&' or token == '|':
        left, lp, pos = _parse(model, domain, pos)
        right, rp, pos = _parse(model, domain, pos)
        return f'({left} {"AND" if token == "&" else "OR"} {right})', lp + rp, pos
    if token == '!':
        sub, sp, pos = _parse(model, domain, pos)
        return f'(NOT {sub})', sp, pos
    sql, params = _leaf_to_sql(model, tuple(token) if isinstance(token, list) else token)
    return sql, params, pos


def expression_to_sql(model, domain):
    domain = list(domain or [])
    if not domain:
        return 'TRUE', []
    pos = 0
    parts, params = [], []
    while pos < len(domain):
        sql, ps, pos = _parse(model, domain, pos)
        parts.append(sql)
        params.extend(ps)
    return ' AND '.join(parts), params
