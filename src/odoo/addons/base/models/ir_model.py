from odoo import api, fields, models, tools


class IrModel(models.Model):
    _name = 'ir.model'
    _description = "Models"
    _order = 'model'

    name = fields.Char(string='Model Description', required=True)
    model = fields.Char(default='x_', required=True)
    state = fields.Selection([('manual', 'Custom Object'), ('base', 'Base Object')], default='manual')
    transient = fields.Boolean(string="Transient Model")
    info = fields.Text(string='Information')

    _sql_constraints = [
        ('obj_name_uniq', 'unique (model)', 'Each model must have a unique name.'),
    ]

    @api.model
    def _get(self, name):
        return self.sudo().search([('model', '=', name)], limit=1)

    @api.model
    def _get_id(self, name):
        return self._get(name).id


class IrModelData(models.Model):
    """External identifiers (``module.name`` -> record)."""
    _name = 'ir.model.data'
    _description = 'Model Data'
    _order = 'module, model, name'
    _rec_name = 'name'

    name = fields.Char(string='External Identifier', required=True)
    module = fields.Char(default='', required=True)
    model = fields.Char(string='Model Name', required=True)
    res_id = fields.Integer(string='Record ID')
    noupdate = fields.Boolean(string='Non Updatable', default=False)

    _sql_constraints = [
        ('name_nospaces', "CHECK(name NOT LIKE '% %')", "External IDs cannot contain spaces"),
        ('module_name_uniq', 'unique (module, name)', 'External IDs must be unique'),
    ]

    @api.model
    def _xmlid_lookup(self, xmlid):
        module, name = xmlid.split('.', 1)
        self.env.cr.execute(
            "SELECT model, res_id FROM ir_model_data WHERE module = %s AND name = %s", [module, name])
        row = self.env.cr.fetchone()
        if not row:
            raise ValueError(f'External ID not found in the system: {xmlid}')
        return tuple(row)

    @api.model
    def _xmlid_to_res_model_res_id(self, xmlid, raise_if_not_found=False):
        if '.' not in xmlid:
            raise ValueError(f"External ID {xmlid!r} must be fully qualified (module.name)")
        try:
            return self._xmlid_lookup(xmlid)
        except ValueError:
            if raise_if_not_found:
                raise
            return (False, False)

    @api.model
    def _xmlid_to_res_id(self, xmlid, raise_if_not_found=False):
        return self._xmlid_to_res_model_res_id(xmlid, raise_if_not_found)[1]

    @api.model
    def check_object_reference(self, module, xml_id, raise_on_access_error=False):
        return self._xmlid_lookup(f'{module}.{xml_id}')


class IrModelAccess(models.Model):
    _name = 'ir.model.access'
    _description = 'Model Access'
    _order = 'model_id,group_id,name,id'

    name = fields.Char(required=True, index=True)
    active = fields.Boolean(default=True)
    model_id = fields.Many2one('ir.model', string='Model', required=True, index=True, ondelete='cascade')
    group_id = fields.Many2one('res.groups', string='Group', ondelete='restrict', index=True)
    perm_read = fields.Boolean(string='Read Access')
    perm_write = fields.Boolean(string='Write Access')
    perm_create = fields.Boolean(string='Create Access')
    perm_unlink = fields.Boolean(string='Delete Access')

    @api.model
    @tools.ormcache('model_name', 'mode', 'uid')
    def _sim_allowed(self, model_name, mode, uid):
        """Whether ``uid`` (None: no user) may ``mode`` ``model_name``: one
        ACL line for one of its groups, or without group."""
        assert mode in ('read', 'write', 'create', 'unlink'), 'Invalid access mode'
        self.env.cr.execute(f"""
            SELECT 1 FROM ir_model_access a
              JOIN ir_model m ON m.id = a.model_id
             WHERE m.model = %s AND a.active = TRUE AND a.perm_{mode} = TRUE
               AND (a.group_id IS NULL OR a.group_id IN (
                    SELECT gid FROM res_groups_users_rel WHERE uid = %s))
             LIMIT 1""", [model_name, uid if uid is not None else -1])
        return bool(self.env.cr.fetchone())

    @api.model_create_multi
    def create(self, vals_list):
        self.env.registry.clear_cache()
        return super().create(vals_list)

    def write(self, vals):
        self.env.registry.clear_cache()
        return super().write(vals)

    def unlink(self):
        self.env.registry.clear_cache()
        return super().unlink()
