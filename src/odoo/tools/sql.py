"""A reduced ``odoo.tools.SQL``: a query fragment with ``%s`` parameters that
can be composed; ``cr.execute(SQL(...))`` unpacks it (odoo/tools/sql.py)."""
import re


class SQL:
    __slots__ = ('code', 'params')

    def __init__(self, code='', *args, **kwargs):
        if isinstance(code, SQL):
            self.code, self.params = code.code, code.params
            return
        if kwargs:
            params = []

            def repl(m):
                value = kwargs[m.group(1)]
                if isinstance(value, SQL):
                    params.extend(value.params)
                    return value.code
                params.append(value)
                return '%s'
            self.code = re.sub(r'%\((\w+)\)s', repl, code)
            self.params = tuple(params)
            return
        pieces = code.split('%s')
        if len(pieces) - 1 != len(args):
            raise TypeError(f"SQL {code!r} expects {len(pieces) - 1} arguments, got {len(args)}")
        out, params = [pieces[0]], []
        for arg, piece in zip(args, pieces[1:], strict=False):
            if isinstance(arg, SQL):
                out.append(arg.code)
                params.extend(arg.params)
            else:
                out.append('%s')
                params.append(arg)
            out.append(piece)
        self.code = ''.join(out)
        self.params = tuple(params)

    @classmethod
    def identifier(cls, name, subname=None):
        if subname:
            return cls(f'"{name}"."{subname}"')
        return cls(f'"{name}"')

    def join(self, args):
        res = SQL()
        parts = [a if isinstance(a, SQL) else SQL('%s', a) for a in args]
        res.code = self.code.join(p.code for p in parts)
        res.params = tuple(p for part in parts for p in part.params)
        return res

    def __repr__(self):
        return f"SQL({self.code!r}, {self.params!r})"
