from odoo import api, fields, models


class SimHeartbeat(models.Model):
    _name = 'sim.heartbeat'
    _description = 'Simulator heartbeat'

    name = fields.Char(required=True, default='beat')
    count = fields.Integer()

    @api.model
    def _cron_send_heartbeat(self):
        ICP = self.env['ir.config_parameter'].sudo()
        ICP.set_param('sim_good.beats', int(ICP.get_param('sim_good.beats', '0')) + 1)
        ICP.set_param('sim_good.beat_uid', self.env.uid)

    @api.model
    def _cron_fail(self):
        raise ValueError('boom')


class SimNote(models.Model):
    """Readable by every internal user; one field for Settings admins only."""
    _name = 'sim.note'
    _description = 'Simulator note'

    name = fields.Char(default='note')
    secret = fields.Char(groups='base.group_system')


class IrConfigParameter(models.Model):
    _inherit = 'ir.config_parameter'

    @api.model
    def set_param(self, key, value):
        # extension chained with super(), like an addon would
        self.env.context.get('sim_trace', []).append(key)
        return super().set_param(key, value)


class ResConfigSettings(models.TransientModel):
    _inherit = 'res.config.settings'

    sim_url = fields.Char(string='Sim URL', config_parameter='sim_good.url')
    sim_limit = fields.Integer(string='Sim limit', config_parameter='sim_good.limit', default=7)
    sim_secret = fields.Char(string='Sim secret', config_parameter='sim_good.secret',
                             groups='base.group_system')
