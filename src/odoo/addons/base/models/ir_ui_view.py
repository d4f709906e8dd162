"""ir.ui.view, reduced to storage and validation: the arch must parse, and
every ``<field name="...">`` must exist on the view's model, otherwise the
record (hence the module install) fails, like real Odoo's ``_check_xml``.
Inheritance specs are not applied (xpath targets are not checked).

The view type is a selection, as there: 17.0 calls the list view ``tree``, 18.0
and 19.0 ``list``, and each refuses the other's (the type is taken from the
arch's root tag, so a ``<tree>`` arch fails to load on 18.0/19.0 and a
``<list>`` one on 17.0)."""
import xml.etree.ElementTree as ET

from odoo import api, fields, models, release
from odoo.exceptions import ValidationError

_LIST = ('tree', 'Tree') if release.SERIE_MAJOR < 18 else ('list', 'List')
VIEW_TYPES = [_LIST, ('form', 'Form'), ('graph', 'Graph'), ('pivot', 'Pivot'),
              ('calendar', 'Calendar'), ('gantt', 'Gantt'), ('kanban', 'Kanban'),
              ('search', 'Search'), ('qweb', 'QWeb')]


class View(models.Model):
    _name = 'ir.ui.view'
    _description = 'View'
    _order = "priority,name,id"

    name = fields.Char(string='View Name', required=True)
    model = fields.Char(index=True)
    key = fields.Char(index=True)
    priority = fields.Integer(string='Sequence', default=16, required=True)
    type = fields.Selection(VIEW_TYPES, string='View Type')
    arch_db = fields.Text(string='Arch Blob')
    arch = fields.Text(string='View Architecture', compute='_compute_arch', store=False)
    inherit_id = fields.Many2one('ir.ui.view', string='Inherited View', ondelete='restrict', index=True)
    mode = fields.Selection([('primary', "Base view"), ('extension', "Extension View")],
                            string="View inheritance mode", default='primary', required=True)
    active = fields.Boolean(default=True)

    def _sim_arch_vals(self, vals):
        vals = dict(vals)
        if 'arch' in vals:
            vals['arch_db'] = vals.pop('arch')
        if vals.get('inherit_id') and not vals.get('model'):
            vals['model'] = self.browse(vals['inherit_id']).model
        if vals.get('inherit_id') and 'mode' not in vals:
            vals['mode'] = 'extension'
        if vals.get('arch_db') and not vals.get('type') and not vals.get('inherit_id'):
            try:
                vals['type'] = ET.fromstring(vals['arch_db']).tag
            except ET.ParseError:
                pass
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        return super().create([self._sim_arch_vals(vals) for vals in vals_list])

    def write(self, vals):
        return super().write(self._sim_arch_vals(vals))

    def _compute_arch(self):
        for view in self:
            self._cache(self._fields['arch'])[view.id] = view.arch_db

    @api.constrains('arch_db', 'model', 'inherit_id')
    def _check_xml(self):
        for view in self:
            try:
                root = ET.fromstring(view.arch_db or '')
            except ET.ParseError as e:
                raise ValidationError(f"Invalid view {view.name} definition: {e}") from e
            if not view.model:
                continue
            if view.model not in self.env.registry:
                raise ValidationError(f'Model not found: {view.model}')
            model_fields = self.env.registry[view.model]._fields
            for node in root.iter('field'):
                name = node.get('name')
                if name and name not in model_fields:
                    raise ValidationError(
                        'Error while validating view near:\n\n{}\n\nField "{}" does not exist in model "{}"'
                        .format(ET.tostring(node, encoding='unicode').strip(), name, view.model))
