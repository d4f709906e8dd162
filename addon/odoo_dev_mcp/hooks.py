"""Install and uninstall hooks: the addon's system parameters live and die with it."""

from .services import registration


def post_init_hook(env):
    # Runs inside the install transaction: the network call must wait for the commit, and the
    # keys exist from here on so no two workers ever race to create them.
    registration.ensure_parameters(env)
    registration.schedule_after_commit(env, "install", background=False)


def uninstall_hook(env):
    # Odoo removes a module's data records, not the parameters it wrote at runtime: the token
    # would stay in clear text, and a reinstall on the same host would think it was reported.
    registration.forget_all_parameters(env)
