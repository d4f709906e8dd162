{
    "name": "Odoo Dev MCP (legacy release, slim heartbeats)",
    "summary": "Simulators only: an old odoo_dev_mcp that sends slim heartbeats",
    "version": "0.9.0",
    "category": "Technical",
    "author": "odoo-dev-mcp",
    "license": "LGPL-3",
    "depends": ["base"],
    "data": ["data/ir_cron.xml"],
    "post_init_hook": "post_init_hook",
    "installable": True,
}
