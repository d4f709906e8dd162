from . import mcp_heartbeat, res_config_settings  # noqa: F401
