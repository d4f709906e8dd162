import hashlib
import secrets

from odoo import SUPERUSER_ID, api, fields, models, release, tools
from odoo.exceptions import AccessDenied

# 19.0 renamed res.users.groups_id to group_ids
GROUPS_FIELD = 'group_ids' if release.SERIE_MAJOR >= 19 else 'groups_id'


class Groups(models.Model):
    _name = "res.groups"
    _description = "Access Groups"
    _order = 'name'

    name = fields.Char(required=True)
    comment = fields.Text()


class Company(models.Model):
    _name = "res.company"
    _description = 'Companies'
    _order = 'sequence, name'

    name = fields.Char(string='Company Name', required=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)


def _default_groups(self):
    group = self.env.ref('base.group_user', raise_if_not_found=False)
    return [group.id] if group else []


class Users(models.Model):
    _name = "res.users"
    _description = 'User'
    _order = 'name, login'

    name = fields.Char(required=True)
    login = fields.Char(required=True, help="Used to log into the system")
    active = fields.Boolean(default=True)
    share = fields.Boolean(default=False)
    company_id = fields.Many2one('res.company', string='Company', required=True,
                                 default=lambda self: self.env.company.id)
    locals()[GROUPS_FIELD] = fields.Many2many(
        'res.groups', 'res_groups_users_rel', 'uid', 'gid', string='Groups', default=_default_groups)

    _sql_constraints = [
        ('login_key', 'UNIQUE (login)', 'You can not have two users with the same login!'),
    ]

    @classmethod
    def _groups_field_name(cls):
        return GROUPS_FIELD

    @api.model
    @tools.ormcache('uid', 'group_ext_id')
    def _sim_has_group(self, uid, group_ext_id):
        module, name = group_ext_id.split('.', 1)
        self.env.cr.execute("""
            SELECT 1 FROM res_groups_users_rel rel
              JOIN ir_model_data d ON d.model = 'res.groups' AND d.res_id = rel.gid
             WHERE rel.uid = %s AND d.module = %s AND d.name = %s""", [uid, module, name])
        return bool(self.env.cr.fetchone())

    def has_group(self, group_ext_id):
        if not (group_ext_id and '.' in group_ext_id):
            raise ValueError("External ID must be fully qualified")
        if release.SERIE_MAJOR >= 18:
            self.ensure_one()
            uid = self.id
        else:
            # 17.0: singleton's id if any, otherwise the environment's user
            uid = self.id or self.env.uid
        if not uid:
            return False
        return self._sim_has_group(uid, group_ext_id)

    if release.SERIE_MAJOR >= 18:
        def has_groups(self, group_spec):
            """Member of one of the groups, and of none preceded by ``!``."""
            self.ensure_one()
            return self._sim_user_has_groups(group_spec) if self.id == self.env.uid else \
                self.with_user(self)._sim_user_has_groups(group_spec)

    def _is_public(self):
        self.ensure_one()
        return self.has_group('base.group_public')

    def _is_system(self):
        self.ensure_one()
        return self.id == SUPERUSER_ID or self.has_group('base.group_system')

    def _is_admin(self):
        self.ensure_one()
        return self.id == SUPERUSER_ID or self.has_group('base.group_erp_manager')

    def _is_superuser(self):
        self.ensure_one()
        return self.id == SUPERUSER_ID

    def _is_internal(self):
        self.ensure_one()
        return self.has_group('base.group_user')

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        self.env.registry.clear_cache()
        return users

    def write(self, vals):
        if GROUPS_FIELD in vals:
            self.env.registry.clear_cache()
        return super().write(vals)


class APIKeys(models.Model):
    """API keys for ``auth='bearer'`` routes (18.0+) and RPC.  Keys are
    stored hashed and looked up by their first 8 characters, like real Odoo
    (which uses passlib where the simulator uses sha256)."""
    _name = 'res.users.apikeys'
    _description = 'Users API Keys'
    _order = 'id'

    name = fields.Char("Description", required=True, readonly=True)
    user_id = fields.Many2one('res.users', index=True, required=True, readonly=True, ondelete="cascade")
    scope = fields.Char("Scope", readonly=True)
    index = fields.Char(readonly=True)
    key = fields.Char(readonly=True)
    expiration_date = fields.Datetime(readonly=True)

    def _generate(self, scope, name, expiration_date=None):
        if release.SERIE_MAJOR >= 18 and expiration_date is None and not self.env.is_system():
            raise AccessDenied("Only administrators can create API keys without expiration date")
        key = secrets.token_hex(20)
        self.env.cr.execute("""
            INSERT INTO res_users_apikeys (name, user_id, scope, "index", "key", expiration_date, create_date)
            VALUES (%s, %s, %s, %s, %s, %s, %s)""",
            [name, self.env.uid, scope, key[:8], hashlib.sha256(key.encode()).hexdigest(),
             expiration_date or None, self.env.cr.now()])
        return key

    def _check_credentials(self, *, scope, key):
        assert scope, "scope is required"
        self.env.cr.execute("""
            SELECT k.user_id, k."key" FROM res_users_apikeys k
              JOIN res_users u ON u.id = k.user_id
             WHERE u.active = TRUE AND k."index" = %s AND (k.scope IS NULL OR k.scope = %s)
               AND (k.expiration_date IS NULL OR k.expiration_date >= %s)""",
            [key[:8], scope, self.env.cr.now()])
        digest = hashlib.sha256(key.encode()).hexdigest()
        for user_id, stored in self.env.cr.fetchall():
            if secrets.compare_digest(stored, digest):
                return user_id
        return None
