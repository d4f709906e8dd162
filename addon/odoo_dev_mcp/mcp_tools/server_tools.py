"""Read-only tools about this Odoo server itself."""

from odoo import release

from ..services import phone_home
from ..services.version import ADDON_VERSION
from .registry import tool


@tool(
    "server_info",
    "Describe this Odoo server: Odoo and addon versions, database, hostname, stage, uptime.",
    title="Server information",
    output_schema={
        "type": "object",
        "properties": {
            "odoo_version": {"type": "string"},
            "addon_version": {"type": "string"},
            "database": {"type": "string"},
            "hostname": {"type": "string"},
            "odoo_stage": {"type": "string", "description": "production, staging, dev or empty"},
            "uptime_seconds": {"type": "number"},
        },
        "required": ["odoo_version", "addon_version", "database", "hostname", "odoo_stage",
                     "uptime_seconds"],
    },
)
def server_info(env, params):
    return {
        "odoo_version": release.version,
        "addon_version": ADDON_VERSION,
        "database": env.cr.dbname,
        "hostname": phone_home.get_server_hostname(),
        "odoo_stage": phone_home.get_odoo_stage(),
        "uptime_seconds": phone_home.get_uptime_seconds(),
    }


@tool(
    "list_installed_modules",
    "List the modules installed in this database, optionally filtered by a name substring.",
    properties={
        "name_contains": {"type": "string", "description": "Keep modules whose name contains this"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000, "description": "At most this many"},
    },
    title="Installed modules",
    output_schema={
        "type": "object",
        "properties": {
            "count": {"type": "integer", "description": "modules matching, before the limit"},
            "modules": {"type": "array", "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "version": {"type": "string"},
                               "summary": {"type": "string"}},
                "required": ["name", "version", "summary"]}},
        },
        "required": ["count", "modules"],
    },
)
def list_installed_modules(env, params):
    domain = [("state", "=", "installed")]
    if params.get("name_contains"):
        domain.append(("name", "ilike", params["name_contains"]))
    modules = env["ir.module.module"].sudo().search_read(
        domain, ["name", "latest_version", "shortdesc"])
    modules.sort(key=lambda module: module["name"])
    limit = params.get("limit", 200)
    return {
        "count": len(modules),
        "modules": [
            {"name": m["name"], "version": m["latest_version"] or "", "summary": m["shortdesc"] or ""}
            for m in modules[:limit]
        ],
    }
