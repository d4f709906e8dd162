"""ir.config_parameter as in odoo/addons/base/models/ir_config_parameter.py:
``get_param`` checks read access then reads through the per-process
``_get_param`` ormcache ('default' cache, 'stable' on 19.0), ``set_param``
writes only on change, and every write clears the cache."""
import uuid

from odoo import api, fields, models, release
from odoo.exceptions import ValidationError
from odoo.tools import config, ormcache

_CACHE = 'stable' if release.SERIE_MAJOR >= 19 else 'default'

_default_parameters = {
    "database.secret": lambda: str(uuid.uuid4()),
    "database.uuid": lambda: str(uuid.uuid1()),
    "database.create_date": fields.Datetime.now,
    "web.base.url": lambda: "http://localhost:{}".format(config.get('http_port')),
    "base.login_cooldown_after": lambda: 10,
    "base.login_cooldown_duration": lambda: 60,
}


class IrConfigParameter(models.Model):
    """Per-database storage of configuration key-value pairs."""
    _name = 'ir.config_parameter'
    _description = 'System Parameter'
    _rec_name = 'key'
    _order = 'key'

    key = fields.Char(required=True)
    value = fields.Text(required=True)

    _sql_constraints = [
        ('key_uniq', 'unique (key)', 'Key must be unique.'),
    ]

    def init(self, force=False):
        for key, func in _default_parameters.items():
            params = self.sudo().search([('key', '=', key)])
            if force or not params:
                params.sudo().set_param(key, func())

    @api.model
    def get_param(self, key, default=False):
        self.browse().check_access_rights('read')
        return self._get_param(key) or default

    @api.model
    @ormcache('key', cache=_CACHE)
    def _get_param(self, key):
        # bypasses the ORM (and its access rights), as real Odoo does
        self.flush_model(['key', 'value'])
        self.env.cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [key])
        result = self.env.cr.fetchone()
        return result and result[0]

    @api.model
    def set_param(self, key, value):
        param = self.search([('key', '=', key)])
        if param:
            old = param.value
            if value is not False and value is not None:
                if str(value) != old:
                    param.write({'value': value})
            else:
                param.unlink()
            return old
        if value is not False and value is not None:
            self.create({'key': key, 'value': value})
        return False

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache(_CACHE)
        return super().create(vals_list)

    def write(self, vals):
        if 'key' in vals:
            illegal = _default_parameters.keys() & set(self.mapped('key'))
            if illegal:
                raise ValidationError(
                    "You cannot rename config parameters with keys {}".format(', '.join(illegal)))
        self.env.registry.clear_cache(_CACHE)
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def unlink_default_parameters(self):
        for record in self:
            if record.key in _default_parameters:
                raise ValidationError(f"You cannot delete the {record.key} record.")

    def unlink(self):
        self.env.registry.clear_cache(_CACHE)
        return super().unlink()
