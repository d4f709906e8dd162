"""res.config.settings (odoo/addons/base/models/res_config.py): fields with
``config_parameter`` are read from ``ir.config_parameter`` by ``default_get``
(Integer/Boolean converted) and written back by ``set_values``; ``execute``
is for administrators only, and the model's ACL restricts it to
base.group_system."""
import logging

from odoo import api, models
from odoo.exceptions import AccessError

_logger = logging.getLogger(__name__)


class ResConfigSettings(models.TransientModel):
    _name = 'res.config.settings'
    _description = 'Config Settings'

    def _get_classified_fields(self, fnames=None):
        configs = []
        others = []
        for name, field in self._fields.items():
            if fnames is not None and name not in fnames:
                continue
            if field.config_parameter:
                if field.type not in ('boolean', 'integer', 'float', 'char', 'selection', 'many2one',
                                      'datetime'):
                    raise Exception(f"Field {field} must have type 'boolean', 'integer', 'float', 'char', "
                                    "'selection', 'many2one' or 'datetime'")
                configs.append((name, field.config_parameter))
            else:
                others.append(name)
        return {'config': configs, 'other': others}

    def get_values(self):
        """Values for the fields other than `default`, `group` and `module`."""
        return {}

    @api.model
    def default_get(self, fields):
        res = super().default_get(fields)
        if not fields:
            return res
        IrConfigParameter = self.env['ir.config_parameter'].sudo()
        warning = "Error when converting value %r of field %s for ir.config.parameter %r"
        for name, icp in self._get_classified_fields(fields)['config']:
            field = self._fields[name]
            default = field.get_default(self) if field.default is not None else False
            value = IrConfigParameter.get_param(icp, default)
            if value is not False:
                if field.type == 'many2one':
                    try:
                        value = self.env[field.comodel_name].browse(int(value)).exists().id
                    except (ValueError, TypeError):
                        _logger.warning(warning, value, field, icp)
                        value = False
                elif field.type == 'integer':
                    try:
                        value = int(value)
                    except (ValueError, TypeError):
                        _logger.warning(warning, value, field, icp)
                        value = 0
                elif field.type == 'float':
                    try:
                        value = float(value)
                    except (ValueError, TypeError):
                        _logger.warning(warning, value, field, icp)
                        value = 0.0
                elif field.type == 'boolean':
                    value = bool(value)
            res[name] = value
        res.update(self.get_values())
        return res

    def set_values(self):
        IrConfigParameter = self.env['ir.config_parameter'].sudo()
        for name, icp in self._get_classified_fields()['config']:
            field = self._fields[name]
            value = self[name]
            current_value = IrConfigParameter.get_param(icp)
            if field.type == 'char':
                value = (value or "").strip() or False
            elif field.type in ('integer', 'float'):
                value = repr(value) if value else False
            elif field.type == 'many2one':
                value = value.id
            if current_value == str(value) or current_value == value:
                continue
            IrConfigParameter.set_param(icp, value)

    def execute(self):
        self.ensure_one()
        if not self.env.is_admin():
            raise AccessError("Only administrators can change the settings")
        self = self.with_context(active_test=False)
        self.set_values()
        return {'type': 'ir.actions.client', 'tag': 'reload'}
