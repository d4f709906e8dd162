{
    "name": "Odoo Dev MCP",
    "summary": "MCP endpoint for AI agents; keeps a fleet receiver told where this server is",
    "description": """
Makes this Odoo server a Model Context Protocol endpoint for AI agents and phones home to a
fleet receiver: registration on install and after an Odoo.sh rebuild changes the hostname,
an enriched heartbeat every minute.
""",
    # Odoo prefixes the series itself (1.0.0 -> 17.0.1.0.0), so one manifest fits 17, 18 and 19.
    # Keep it equal to services.version.ADDON_VERSION (a test checks it).
    "version": "1.0.0",
    "category": "Technical",
    "author": "odoo-dev-mcp",
    "website": "https://github.com/odoo-dev-mcp/odoo-dev-mcp",
    "maintainers": ["odoo-dev-mcp"],
    "license": "LGPL-3",
    "depends": ["base"],
    "external_dependencies": {"python": ["requests"]},
    "data": [
        "security/ir.model.access.csv",
        "data/ir_cron.xml",
        "views/res_config_settings_views.xml",
        "views/mcp_audit_log_views.xml",
    ],
    "post_init_hook": "post_init_hook",
    "uninstall_hook": "uninstall_hook",
    "installable": True,
    "application": False,
}
