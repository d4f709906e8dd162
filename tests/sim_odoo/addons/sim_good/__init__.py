from . import controllers, models  # noqa: F401


def post_init(env):
    env['ir.config_parameter'].sudo().set_param('sim_good.installed', 'yes')
