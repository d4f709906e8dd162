"""ir.actions.act_window, reduced to what data files set: a window action must
name an existing model (real Odoo's ``_check_model``: "Invalid model name ...
in action definition."), and ``view_mode`` defaults to ``tree,form`` on 17.0
and ``list,form`` on 18.0/19.0 (each refuses the other's list mode when the
client opens the action; not simulated). Other action types, bindings and the
menu tree are not simulated (``<menuitem>`` is ignored by the data loader)."""
from odoo import api, fields, models, release
from odoo.exceptions import ValidationError

DEFAULT_VIEW_MODE = 'tree,form' if release.SERIE_MAJOR < 18 else 'list,form'


class IrActionsActWindow(models.Model):
    _name = 'ir.actions.act_window'
    _description = 'Action Window'
    _order = 'name, id'

    name = fields.Char(string='Action Name', required=True)
    type = fields.Char(default='ir.actions.act_window', required=True)
    res_model = fields.Char(string='Destination Model', required=True)
    view_mode = fields.Char(required=True, default=DEFAULT_VIEW_MODE)
    view_id = fields.Many2one('ir.ui.view', string='View Ref.', ondelete='set null')
    domain = fields.Char(string='Domain Value')
    context = fields.Char(string='Context Value', default='{}', required=True)
    target = fields.Selection([('current', 'Current Window'), ('new', 'New Window'),
                               ('inline', 'Inline Edit'), ('fullscreen', 'Full Screen'),
                               ('main', 'Main action of Current Window')], default='current')

    @api.constrains('res_model')
    def _check_model(self):
        for action in self:
            if action.res_model not in self.env.registry:
                raise ValidationError(f'Invalid model name {action.res_model!r} in action definition.')
