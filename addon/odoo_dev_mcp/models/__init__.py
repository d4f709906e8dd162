from . import mcp_audit_log, mcp_heartbeat, mcp_rate_window, res_config_settings  # noqa: F401
