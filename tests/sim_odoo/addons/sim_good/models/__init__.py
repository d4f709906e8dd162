from . import heartbeat  # noqa: F401
