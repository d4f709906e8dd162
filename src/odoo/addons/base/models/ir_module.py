import logging

from odoo import api, fields, models
from odoo.modules import module as modmod

_logger = logging.getLogger(__name__)

STATES = [
    ('uninstallable', 'Uninstallable'),
    ('uninstalled', 'Not Installed'),
    ('installed', 'Installed'),
    ('to upgrade', 'To be upgraded'),
    ('to remove', 'To be removed'),
    ('to install', 'To be installed'),
]


class Module(models.Model):
    _name = "ir.module.module"
    _rec_name = "shortdesc"
    _description = "Module"
    _order = 'application desc,sequence,name'

    name = fields.Char('Technical Name', readonly=True, required=True)
    shortdesc = fields.Char('Module Name', readonly=True)
    summary = fields.Char('Summary', readonly=True)
    description = fields.Text('Description', readonly=True)
    author = fields.Char("Author", readonly=True)
    website = fields.Char("Website", readonly=True)
    latest_version = fields.Char('Latest Version', readonly=True)
    published_version = fields.Char('Published Version', readonly=True)
    state = fields.Selection(STATES, string='Status', default='uninstallable', readonly=True, index=True)
    demo = fields.Boolean('Demo Data', default=False, readonly=True)
    license = fields.Char(readonly=True)
    application = fields.Boolean('Application', readonly=True)
    sequence = fields.Integer('Sequence', default=100)
    auto_install = fields.Boolean('Automatic Installation')

    _sql_constraints = [
        ('name_uniq', 'UNIQUE (name)', 'The name of the module must be unique!'),
    ]

    @staticmethod
    def _sim_values(manifest):
        return {
            'shortdesc': manifest.get('name', ''),
            'summary': manifest.get('summary', ''),
            'description': manifest.get('description', ''),
            'author': manifest.get('author', ''),
            'website': manifest.get('website', ''),
            'license': manifest.get('license', 'LGPL-3'),
            'application': bool(manifest.get('application')),
            'sequence': manifest.get('sequence', 100),
            'auto_install': bool(manifest.get('auto_install')),
        }

    @api.model
    def _sim_get(self, name, manifest):
        module = self.sudo().search([('name', '=', name)], limit=1)
        if not module:
            module = self.sudo().create({'name': name, 'state': 'uninstalled', **self._sim_values(manifest)})
        return module

    @api.model
    def update_list(self):
        res = [0, 0]
        known = {m.name: m for m in self.sudo().search([])}
        for name in modmod.get_modules():
            manifest = modmod.get_manifest(name)
            if not manifest:
                continue
            state = 'uninstalled' if manifest.get('installable', True) else 'uninstallable'
            if name in known:
                mod = known[name]
                values = self._sim_values(manifest)
                if mod.state == 'uninstallable' and state == 'uninstalled':
                    values['state'] = state
                mod.write(values)
                res[0] += 1
            else:
                self.sudo().create({'name': name, 'state': state, **self._sim_values(manifest)})
                res[1] += 1
        return res

    def button_immediate_install(self):
        raise NotImplementedError(
            "the simulated Odoo installs modules with odoo.service.db.install_modules() or "
            "Registry.new(db, update_module=True)")
