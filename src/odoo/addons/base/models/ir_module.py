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
    # Odoo's own (swapped) labels: installed_version is the manifest's, latest_version the
    # database's, i.e. what was last installed or updated
    installed_version = fields.Char('Latest Version', compute='_get_latest_version')
    latest_version = fields.Char('Installed Version', readonly=True)
    published_version = fields.Char('Published Version', readonly=True)
    state = fields.Selection(STATES, string='Status', default='uninstallable', readonly=True, index=True)
    demo = fields.Boolean('Demo Data', default=False, readonly=True)
    license = fields.Char(readonly=True)
    application = fields.Boolean('Application', readonly=True)
    sequence = fields.Integer('Sequence', default=100)
    auto_install = fields.Boolean('Automatic Installation')

    dependencies_id = fields.One2many('ir.module.module.dependency', 'module_id',
                                      string='Dependencies', readonly=True)

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

    def _get_latest_version(self):
        default_version = modmod.adapt_version('1.0')
        for module in self:
            self._cache(self._fields['installed_version'])[module.id] = (
                (modmod.get_manifest(module.name) or {}).get('version', default_version))

    def _update_dependencies(self, depends=None):
        existing = {dep.name for dep in self.sudo().dependencies_id}
        Dependency = self.env['ir.module.module.dependency'].sudo()
        for name in sorted(set(depends or []) - existing):
            Dependency.create({'module_id': self.id, 'name': name})
        for dep in self.sudo().dependencies_id:
            if dep.name not in set(depends or []):
                dep.unlink()

    @api.model
    def _sim_get(self, name, manifest):
        module = self.sudo().search([('name', '=', name)], limit=1)
        if not module:
            module = self.sudo().create({'name': name, 'state': 'uninstalled', **self._sim_values(manifest)})
            module._update_dependencies(manifest.get('depends', []))
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
                mod = self.sudo().create({'name': name, 'state': state, **self._sim_values(manifest)})
                res[1] += 1
            mod._update_dependencies(manifest.get('depends', []))
        return res

    def button_immediate_install(self):
        raise NotImplementedError(
            "the simulated Odoo installs modules with odoo.service.db.install_modules() or "
            "Registry.new(db, update_module=True)")


DEP_STATES = STATES + [('unknown', 'Unknown')]


class ModuleDependency(models.Model):
    _name = "ir.module.module.dependency"
    _description = "Module dependency"
    _log_access = False

    name = fields.Char(index=True)
    module_id = fields.Many2one('ir.module.module', 'Module', ondelete='cascade')
    depend_id = fields.Many2one('ir.module.module', 'Dependency', compute='_compute_depend')
    state = fields.Selection(DEP_STATES, string='Status', compute='_compute_state')

    def _compute_depend(self):
        names = list({dep.name for dep in self})
        mods = self.env['ir.module.module'].search([('name', 'in', names)])
        name_mod = {mod.name: mod.id for mod in mods}
        for dep in self:
            self._cache(self._fields['depend_id'])[dep.id] = name_mod.get(dep.name, False)

    def _compute_state(self):
        for dep in self:
            self._cache(self._fields['state'])[dep.id] = dep.depend_id.state or 'unknown'
