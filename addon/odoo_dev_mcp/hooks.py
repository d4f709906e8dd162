"""Install hook: create the addon's keys, then register once the install has committed."""

from .services import registration


def post_init_hook(env):
    # Runs inside the install transaction: the network call must wait for the commit, and the
    # keys exist from here on so no two workers ever race to create them.
    registration.ensure_parameters(env)
    registration.schedule_after_commit(env, "install", background=False)
