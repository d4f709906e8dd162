"""Data files loading (odoo/tools/convert.py): XML ``<odoo>`` files with
``<record>``, ``<function>``, ``<delete>`` (and ``noupdate``), CSV files named
after their model (``ir.model.access.csv``).  Errors are raised as
``ParseError`` carrying the original message, the file and the element."""
import csv
import datetime
import logging
import os
import time
import xml.etree.ElementTree as ET
from xml.parsers import expat

from .misc import str2bool
from .safe_eval import safe_eval

_logger = logging.getLogger(__name__)


class ParseError(ValueError):
    pass


def _parse_xml(path):
    """Parse with expat to keep each element's source line (ElementTree
    elements have none)."""
    builder = ET.TreeBuilder()
    lines = {}
    parser = expat.ParserCreate()

    def start(tag, attrs):
        element = builder.start(tag, attrs)
        lines[id(element)] = parser.CurrentLineNumber
    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    with open(path, 'rb') as f:
        parser.Parse(f.read(), True)
    return builder.close(), lines


class xml_import:
    def __init__(self, env, module, idref, mode, noupdate=False, xml_filename=None):
        self.env = env(context=dict(env.context, install_mode=True))
        self.module = module
        self.idref = idref if idref is not None else {}
        self.mode = mode
        self.noupdate = noupdate
        self.xml_filename = xml_filename
        self.lines = {}

    def make_xml_id(self, xml_id):
        if not xml_id or '.' in xml_id:
            return xml_id
        return f'{self.module}.{xml_id}'

    def id_get(self, id_str, raise_if_not_found=True):
        if id_str in self.idref:
            return self.idref[id_str]
        xmlid = self.make_xml_id(id_str)
        _model, res_id = self.env['ir.model.data']._xmlid_to_res_model_res_id(
            xmlid, raise_if_not_found=raise_if_not_found)
        return res_id

    def _eval_context(self):
        return {
            'ref': self.id_get,
            'obj': lambda xmlid: self.env.ref(self.make_xml_id(xmlid)),
            'time': time,
            'DateTime': datetime.datetime,
            'datetime': datetime,
            'timedelta': datetime.timedelta,
            'version': self.env.registry and __import__('odoo').release.major_version,
        }

    def parse(self, root):
        if root.tag not in ('odoo', 'openerp', 'data'):
            raise ParseError("Root xml tag must be <odoo>, <openerp> or <data>.")
        self._tag_root(root, str2bool(root.get('noupdate', self.noupdate), False))

    def _tag_root(self, el, noupdate):
        for rec in el:
            try:
                if rec.tag == 'data':
                    self._tag_root(rec, str2bool(rec.get('noupdate', noupdate), False))
                elif rec.tag == 'record':
                    self._tag_record(rec, noupdate)
                elif rec.tag == 'function':
                    self._tag_function(rec)
                elif rec.tag == 'delete':
                    self._tag_delete(rec)
                elif rec.tag in ('menuitem', 'template', 'act_window', 'report', 'asset'):
                    _logger.debug("tag <%s> is not simulated, ignored", rec.tag)
                elif isinstance(rec.tag, str):
                    raise ValueError(f"Unknown tag <{rec.tag}>")
            except ParseError:
                raise
            except Exception as e:
                snippet = ET.tostring(rec, encoding='unicode').rstrip()
                raise ParseError(f'{e}\nwhile parsing {self.xml_filename}:{self.lines.get(id(rec))}, '
                                 f'somewhere inside\n{snippet}') from e

    def _field_value(self, model, field_el):
        f_name = field_el.get('name')
        f_ref = field_el.get('ref')
        f_eval = field_el.get('eval')
        f_search = field_el.get('search')
        field = model._fields.get(f_name)
        f_type = field_el.get('type') or (field.type if field is not None else 'char')
        if f_search:
            domain = safe_eval(f_search, self._eval_context())
            records = self.env[field.comodel_name].search(domain)
            return records[:1].id if f_type == 'many2one' else [(6, 0, records.ids)]
        if f_ref is not None:
            if f_ref == 'False':
                return False
            return self.id_get(f_ref)
        if f_eval is not None:
            return safe_eval(f_eval, self._eval_context())
        if f_type in ('xml', 'html'):
            parts = [field_el.text or ''] + [ET.tostring(child, encoding='unicode') for child in field_el]
            return ''.join(parts).strip()
        value = field_el.text or ''
        if field is None:
            return value
        if field.type == 'many2one':
            return int(value) if value else False
        if field.type == 'integer':
            return int(value)
        if field.type == 'float':
            return float(value)
        if field.type == 'boolean':
            return str2bool(value.strip(), False)
        return value

    def _tag_record(self, rec, noupdate):
        rec_model = rec.get('model')
        if rec_model not in self.env.registry:
            raise ValueError(f"Invalid model {rec_model!r}")
        model = self.env[rec_model]
        rec_id = rec.get('id', '')
        xid = self.make_xml_id(rec_id) if rec_id else None
        if self.mode != 'init' and noupdate and xid:
            res_id = self.id_get(rec_id, raise_if_not_found=False)
            if res_id:
                self.idref[rec_id] = res_id
                return
        values = {}
        for field_el in rec.findall('./field'):
            values[field_el.get('name')] = self._field_value(model, field_el)
        record = model._load_records(
            [{'xml_id': xid, 'values': values, 'noupdate': noupdate}], self.mode == 'update')
        if rec_id:
            self.idref[rec_id] = record.id

    def _tag_function(self, rec):
        model = self.env[rec.get('model')]
        args = []
        if rec.get('eval'):
            args = safe_eval(rec.get('eval'), self._eval_context())
        for value_el in rec.findall('./value'):
            if value_el.get('eval'):
                args.append(safe_eval(value_el.get('eval'), self._eval_context()))
            else:
                args.append(value_el.text)
        getattr(model, rec.get('name'))(*args)

    def _tag_delete(self, rec):
        model = self.env[rec.get('model')]
        if rec.get('id'):
            res_id = self.id_get(rec.get('id'), raise_if_not_found=False)
            if res_id:
                model.browse(res_id).unlink()
        elif rec.get('search'):
            model.search(safe_eval(rec.get('search'), self._eval_context())).unlink()


def convert_xml_import(env, module, xmlfile, idref=None, mode='init', noupdate=False, report=None):
    path = getattr(xmlfile, 'name', xmlfile)
    root, lines = _parse_xml(path)
    importer = xml_import(env, module, idref, mode, noupdate=noupdate, xml_filename=path)
    importer.lines = lines
    importer.parse(root)


def convert_csv_import(env, module, fname, csvcontent, idref=None, mode='init', noupdate=False):
    filename, _ext = os.path.splitext(os.path.basename(fname))
    model = filename.split('-')[0]
    reader = csv.reader(csvcontent.splitlines())
    fields = next(reader)
    if 'id' not in fields:
        raise ParseError("Import specification does not contain 'id' and we are in init mode, "
                         "Cannot continue.")
    importer = xml_import(env, module, idref, mode, noupdate=noupdate, xml_filename=fname)
    Model = env[model]
    for lineno, row in enumerate(reader, start=2):
        if not any(row):
            continue
        values = {}
        xml_id = None
        try:
            for name, value in zip(fields, row, strict=False):
                if name == 'id':
                    xml_id = importer.make_xml_id(value)
                elif name.endswith(':id'):
                    values[name[:-3]] = importer.id_get(value) if value else False
                else:
                    field = Model._fields.get(name)
                    if field is not None and field.type == 'boolean':
                        value = str2bool(value or '0', False)
                    elif field is not None and field.type == 'integer':
                        value = int(value or 0)
                    values[name] = value
            Model._load_records([{'xml_id': xml_id, 'values': values, 'noupdate': noupdate}],
                                mode == 'update')
        except Exception as e:
            raise ParseError(f'{e}\nwhile loading {fname} line {lineno}') from e


def convert_file(env, module, filename, idref, mode='update', noupdate=False, kind=None, pathname=None):
    from ..modules.module import get_module_path
    if pathname is None:
        pathname = os.path.join(get_module_path(module), filename)
    ext = os.path.splitext(filename)[1].lower()
    if ext == '.csv':
        with open(pathname, encoding='utf-8') as fp:
            convert_csv_import(env, module, pathname, fp.read(), idref, mode, noupdate)
    elif ext == '.xml':
        convert_xml_import(env, module, pathname, idref, mode, noupdate)
    elif ext == '.sql':
        with open(pathname, encoding='utf-8') as fp:
            env.cr.execute(fp.read())
    elif ext == '.js':
        pass
    else:
        raise ValueError(f"Can't load unknown file type {filename}.")
