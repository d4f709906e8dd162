"""The read tier: tools any internal user may call, run as that user (access rights and record
rules apply), results bounded in rows and bytes and JSON-safe.

Odoo differences handled by feature detection: `has_access` (18+) against 17's
`check_access_rights(..., raise_exception=False)`; groups through `_read_group`, the one grouping
API with the same signature and result on 17, 18 and 19 (19 deprecates `read_group` for the web
module's `formatted_read_group`, which 17 and 18 lack).
"""

import contextlib
import datetime
import json
import re

from odoo import release
from odoo.exceptions import AccessError

from ..services import phone_home
from .registry import ToolError, tool

MAX_BYTES = 200_000  # the JSON text of a result stays about this size
MAX_ROWS = 500
DEFAULT_ROWS = 80
ALLOWED_ORIGINS_KEY = "mcp.allowed_origins"  # the endpoint's setting (controllers/mcp_endpoint.py)
_AGGREGATE = re.compile(r"^[a-z0-9_]+:(sum|avg|min|max|count|count_distinct|bool_and|bool_or)$")
_GROUPBY = re.compile(r"^[a-z0-9_]+(:(day|week|month|quarter|year))?$")

# ---------------------------------------------------------------- shared pieces

_MODEL = {"type": "string", "description": "Technical model name, e.g. res.partner"}
_DOMAIN = {"type": "array", "items": {},
           "description": "Odoo search domain: a list of [field, operator, value] triples and "
                          "'&', '|', '!' operators, e.g. [[\"name\", \"ilike\", \"acme\"]]. "
                          "Default: every record."}
_FIELDS = {"type": "array", "items": {"type": "string"},
           "description": "Field names to return (default: every stored field except binary "
                          "ones). Binary fields are never returned."}
_TRUNCATED = {"type": "boolean", "description": "true when rows or bytes were cut"}
_ROW = {"type": "object", "additionalProperties": True}


def _json_safe(value):
    """Odoo's read values as JSON: dates as ISO strings, many2one as [id, name], bytes by size."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"bytes": len(value)}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "_name") and hasattr(value, "ids"):  # a recordset (groups)
        if len(value) == 1:
            return [value.id, value.sudo().display_name]
        return value.ids
    return str(value)


def _size(value):
    return len(json.dumps(value, default=str))


def _bounded(rows, budget=None):
    """As many rows as fit in `budget` bytes of JSON, and whether some were left out."""
    kept, used, budget = [], 0, MAX_BYTES if budget is None else budget
    for row in rows:
        used += _size(row) + 2
        if used > budget:
            return kept, True
        kept.append(row)
    return kept, False


@contextlib.contextmanager
def _orm_errors():
    """Odoo answers a bad domain, field, order or groupby with ValueError/KeyError/TypeError:
    the caller's mistake, told to the agent (never logged as a failure of the server)."""
    try:
        yield
    except (ValueError, KeyError, TypeError) as error:
        raise ToolError(f"Odoo refused the request: {error}") from None


def _model(env, name):
    if name not in env:
        raise ToolError(f"unknown model {name!r}: list_models gives the names")
    model = env[name]
    if model._abstract:
        raise ToolError(f"{name!r} is an abstract model: it has no records")
    return model


def _domain(params):
    domain = params.get("domain", [])
    if not isinstance(domain, list):
        raise ToolError("domain must be a list")
    checked = []
    for term in domain:
        if term in ("&", "|", "!"):
            checked.append(term)
        elif isinstance(term, list) and len(term) == 3 and isinstance(term[0], str) \
                and isinstance(term[1], str):
            checked.append(tuple(term))
        else:
            raise ToolError(f"domain term {term!r}: use [field, operator, value] or '&', '|', '!'")
    return checked


def _can_read(model):
    if hasattr(model, "has_access"):  # 18, 19
        return model.has_access("read")
    return model.check_access_rights("read", raise_exception=False)  # 17


def _fields(model, params):
    """Field names to read, and the binary ones left out (never sent, whatever their size)."""
    asked = params.get("fields")
    if asked:
        unknown = [name for name in asked if name not in model._fields]
        if unknown:
            raise ToolError(f"unknown field(s) on {model._name}: {', '.join(unknown)}")
        names = list(dict.fromkeys(asked))
    else:  # what the user may see (fields_get drops fields of groups they lack), stored only
        names = [name for name in model.fields_get(attributes=["type"])
                 if model._fields[name].store]
    binary = [name for name in names if model._fields[name].type == "binary"]
    return [name for name in names if name not in binary], binary


# ---------------------------------------------------------------- instance

@tool(
    "instance_info",
    "Describe this Odoo instance and who is calling: Odoo version and edition, database name "
    "and uuid, ODOO_STAGE, base URL, the calling user and company, the number of installed "
    "modules, and the MCP endpoint's safety settings. Call it first to know where you are.",
    title="Instance information",
    output_schema={
        "type": "object",
        "properties": {
            "odoo_version": {"type": "string"},
            "odoo_serie": {"type": "string"},
            "edition": {"type": "string", "enum": ["community", "enterprise"]},
            "database": {"type": "string"},
            "database_uuid": {"type": "string"},
            "odoo_stage": {"type": "string", "description": "production, staging, dev or empty"},
            "base_url": {"type": "string"},
            "user": {"type": "object", "properties": {
                "id": {"type": "integer"}, "login": {"type": "string"}, "name": {"type": "string"}},
                "required": ["id", "login", "name"]},
            "company": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}},
                "required": ["id", "name"]},
            "installed_modules": {"type": "integer"},
            "safety": {"type": "object", "properties": {
                "allowed_origins": {"type": "array", "items": {"type": "string"},
                                    "description": "Origins allowed besides the server's own"}},
                "required": ["allowed_origins"]},
        },
        "required": ["odoo_version", "odoo_serie", "edition", "database", "database_uuid",
                     "odoo_stage", "base_url", "user", "company", "installed_modules", "safety"],
    },
)
def instance_info(env, params):
    icp = env["ir.config_parameter"].sudo()
    modules = env["ir.module.module"].sudo()
    user, company = env.user, env.company
    origins = [item.strip() for item in (icp.get_param(ALLOWED_ORIGINS_KEY) or "").split(",")]
    return {
        "odoo_version": release.version,
        "odoo_serie": release.serie,
        "edition": "enterprise" if modules.search_count(
            [("name", "=", "web_enterprise"), ("state", "=", "installed")]) else "community",
        "database": env.cr.dbname,
        "database_uuid": icp.get_param("database.uuid") or "",
        "odoo_stage": phone_home.get_odoo_stage(),
        "base_url": icp.get_param("web.base.url") or "",
        "user": {"id": user.id, "login": user.login, "name": user.name},
        "company": {"id": company.id, "name": company.sudo().name or ""},
        "installed_modules": modules.search_count([("state", "=", "installed")]),
        "safety": {"allowed_origins": [origin for origin in origins if origin]},
    }


# ---------------------------------------------------------------- models and fields

@tool(
    "list_models",
    "List the models you may read (technical name, description, transient or not), sorted by "
    "name. Filter with name_contains (matches the technical name or the description).",
    properties={
        "name_contains": {"type": "string", "description": "Substring of the model or its name"},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS,
                  "description": f"At most this many models (default {MAX_ROWS})"},
    },
    title="Readable models",
    output_schema={
        "type": "object",
        "properties": {
            "count": {"type": "integer", "description": "readable models matching, before the limit"},
            "models": {"type": "array", "items": {
                "type": "object",
                "properties": {"model": {"type": "string"}, "name": {"type": "string"},
                               "transient": {"type": "boolean"}},
                "required": ["model", "name", "transient"]}},
            "truncated": _TRUNCATED,
        },
        "required": ["count", "models", "truncated"],
    },
)
def list_models(env, params):
    needle = (params.get("name_contains") or "").lower()
    rows = env["ir.model"].sudo().search_read([], ["model", "name", "transient"], order="model")
    found = []
    for row in rows:
        name = row["model"]
        if needle and needle not in name.lower() and needle not in (row["name"] or "").lower():
            continue
        if name not in env or env[name]._abstract or not _can_read(env[name]):
            continue
        found.append({"model": name, "name": row["name"] or "", "transient": bool(row["transient"])})
    limit = params.get("limit", MAX_ROWS)
    kept, cut = _bounded(found[:limit])
    return {"count": len(found), "models": kept, "truncated": cut or len(found) > limit}


_FIELD_ATTRIBUTES = ("type", "string", "required", "readonly", "relation", "selection", "store",
                     "help")


@tool(
    "get_model_fields",
    "Describe a model's fields as you can see them (fields restricted to groups you lack are "
    "not shown): name, type, label, required, readonly, related model, selection values, "
    "stored or computed. Filter by name substring or field type.",
    properties={
        "model": _MODEL,
        "name_contains": {"type": "string", "description": "Keep fields whose name contains this"},
        "types": {"type": "array", "items": {"type": "string"},
                  "description": "Keep fields of these types, e.g. [\"many2one\", \"selection\"]"},
        "attributes": {"type": "array", "items": {"type": "string", "enum": list(_FIELD_ATTRIBUTES)},
                       "description": "Attributes to return besides name (default: all of them)"},
    },
    required=["model"],
    title="Model fields",
    output_schema={
        "type": "object",
        "properties": {
            "model": {"type": "string"},
            "count": {"type": "integer"},
            "fields": {"type": "array", "items": {
                "type": "object", "properties": {"name": {"type": "string"}},
                "required": ["name"], "additionalProperties": True}},
            "truncated": _TRUNCATED,
        },
        "required": ["model", "count", "fields", "truncated"],
    },
)
def get_model_fields(env, params):
    model = _model(env, params["model"])
    if not _can_read(model):
        raise AccessError(f"You are not allowed to access '{model._name}' records: "
                          "no fields to describe")
    attributes = list(params.get("attributes") or _FIELD_ATTRIBUTES)
    with _orm_errors():
        described = model.fields_get(attributes=sorted(set(attributes) | {"type"}))
    needle, types = params.get("name_contains") or "", params.get("types")
    rows = []
    for name in sorted(described):
        desc = described[name]
        if needle not in name or (types and desc.get("type") not in types):
            continue
        row = {"name": name}
        for attribute in attributes:
            if attribute in desc:
                row[attribute] = _json_safe(desc[attribute])
        rows.append(row)
    kept, cut = _bounded(rows)
    return {"model": model._name, "count": len(rows), "fields": kept, "truncated": cut}


# ---------------------------------------------------------------- records

_RECORDS_OUTPUT = {
    "type": "object",
    "properties": {
        "model": {"type": "string"},
        "records": {"type": "array", "items": _ROW},
        "count": {"type": "integer", "description": "records returned"},
        "offset": {"type": "integer"},
        "truncated": _TRUNCATED,
        "next_offset": {"type": "integer", "description": "offset of the next page, when more"},
        "omitted_fields": {"type": "array", "items": {"type": "string"},
                           "description": "binary fields left out"},
    },
    "required": ["model", "records", "count", "offset", "truncated", "omitted_fields"],
}


@tool(
    "search_read",
    "Search records of a model and read their fields, as you (your access rights and record "
    f"rules apply). At most {MAX_ROWS} records per call (default {DEFAULT_ROWS}) and about "
    f"{MAX_BYTES // 1000} KB of JSON; page with offset. Many2one values are [id, name], dates ISO "
    "strings; archived records are left out unless the domain names 'active'.",
    properties={
        "model": _MODEL,
        "domain": _DOMAIN,
        "fields": _FIELDS,
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS,
                  "description": f"At most this many records (default {DEFAULT_ROWS})"},
        "offset": {"type": "integer", "minimum": 0, "description": "Records to skip"},
        "order": {"type": "string", "description": "e.g. 'name asc, id desc' (default: the model's)"},
    },
    required=["model"],
    title="Search and read records",
    output_schema=_RECORDS_OUTPUT,
)
def search_read(env, params):
    model = _model(env, params["model"])
    domain = _domain(params)
    names, binary = _fields(model, params)
    limit, offset = params.get("limit", DEFAULT_ROWS), params.get("offset", 0)
    with _orm_errors():
        rows = model.search_read(domain, names or ["id"], offset=offset, limit=limit + 1,
                                 order=params.get("order") or None)
    more = len(rows) > limit
    kept, cut = _bounded([_json_safe(row) for row in rows[:limit]])
    result = {"model": model._name, "records": kept, "count": len(kept), "offset": offset,
              "truncated": cut or more, "omitted_fields": binary}
    if cut or more:
        result["next_offset"] = offset + len(kept)
    return result


@tool(
    "count_records",
    "Count the records of a model matching a domain, as you (access rights and record rules "
    "apply). With limit, counting stops there (cheap on big tables).",
    properties={
        "model": _MODEL,
        "domain": _DOMAIN,
        "limit": {"type": "integer", "minimum": 1, "description": "Stop counting at this number"},
    },
    required=["model"],
    title="Count records",
    output_schema={
        "type": "object",
        "properties": {
            "model": {"type": "string"},
            "count": {"type": "integer"},
            "limit_reached": {"type": "boolean", "description": "the count stopped at limit"},
        },
        "required": ["model", "count", "limit_reached"],
    },
)
def count_records(env, params):
    model = _model(env, params["model"])
    domain = _domain(params)
    limit = params.get("limit")
    with _orm_errors():
        count = model.search_count(domain, limit=limit)
    return {"model": model._name, "count": count, "limit_reached": bool(limit and count >= limit)}


@tool(
    "get_record",
    "Read one record by id, as you (access rights and record rules apply), archived or not. "
    "Returns an error when it does not exist or you may not see it.",
    properties={
        "model": _MODEL,
        "id": {"type": "integer", "minimum": 1, "description": "The record's id"},
        "fields": _FIELDS,
    },
    required=["model", "id"],
    title="Read one record",
    output_schema={
        "type": "object",
        "properties": {
            "model": {"type": "string"},
            "record": _ROW,
            "truncated": {"type": "boolean",
                          "description": "true when long values were cut to fit the size bound"},
            "omitted_fields": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["model", "record", "truncated", "omitted_fields"],
    },
)
def get_record(env, params):
    model = _model(env, params["model"]).with_context(active_test=False)
    names, binary = _fields(model, params)
    with _orm_errors():
        record = model.search([("id", "=", params["id"])])
        if not record:
            raise ToolError(f"no {model._name} record with id {params['id']} that you may read")
        values = _json_safe(record.read(names or ["id"])[0])
    cut = False
    if _size(values) > MAX_BYTES:  # one huge value (a long text or html): shorten the longest
        cut = True
        for name in sorted(values, key=lambda key: -_size(values[key])):
            if _size(values) <= MAX_BYTES:
                break
            values[name] = _shorten(values[name], max(0, MAX_BYTES - (_size(values)
                                                                       - _size(values[name]))))
    return {"model": model._name, "record": values, "truncated": cut, "omitted_fields": binary}


def _shorten(value, budget):
    if isinstance(value, str):
        return value[:max(0, budget // 2 - 40)] + " [cut]"
    if isinstance(value, list):
        return value[:max(0, budget // 16)]
    return None


@tool(
    "read_group",
    "Group a model's records and aggregate them, as you (access rights and record rules apply): "
    "groupby fields (dates as 'field:day|week|month|quarter|year'), aggregates as 'field:sum' "
    "(sum, avg, min, max, count, count_distinct, bool_and, bool_or). Each group has __count.",
    properties={
        "model": _MODEL,
        "domain": _DOMAIN,
        "groupby": {"type": "array", "items": {"type": "string"},
                    "description": "Fields to group by, e.g. [\"state\", \"date:month\"]; "
                                   "empty: one group of everything"},
        "aggregates": {"type": "array", "items": {"type": "string"},
                       "description": "e.g. [\"amount_total:sum\"]"},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_ROWS,
                  "description": f"At most this many groups (default {DEFAULT_ROWS})"},
        "offset": {"type": "integer", "minimum": 0},
    },
    required=["model", "groupby"],
    title="Group and aggregate records",
    output_schema={
        "type": "object",
        "properties": {
            "model": {"type": "string"},
            "groups": {"type": "array", "items": _ROW,
                       "description": "one object per group: each groupby spec and aggregate "
                                      "spec as a key, plus __count"},
            "count": {"type": "integer"},
            "truncated": _TRUNCATED,
        },
        "required": ["model", "groups", "count", "truncated"],
    },
)
def read_group(env, params):
    model = _model(env, params["model"])
    domain = _domain(params)
    groupby, aggregates = list(params["groupby"]), list(params.get("aggregates") or [])
    for spec in groupby:
        if not isinstance(spec, str) or not _GROUPBY.match(spec):
            raise ToolError(f"groupby {spec!r}: use 'field' or 'field:day|week|month|quarter|year'")
    for spec in aggregates:
        if not isinstance(spec, str) or not _AGGREGATE.match(spec):
            raise ToolError(f"aggregate {spec!r}: use 'field:sum' (sum, avg, min, max, count, "
                            "count_distinct, bool_and, bool_or)")
    limit, offset = params.get("limit", DEFAULT_ROWS), params.get("offset", 0)
    specs = groupby + aggregates + ["__count"]
    with _orm_errors():
        rows = model._read_group(domain, groupby, aggregates + ["__count"], offset=offset,
                                 limit=limit + 1 if groupby else None)
    more = len(rows) > limit
    groups = [{spec: _json_safe(value) for spec, value in zip(specs, row, strict=True)}
              for row in rows[:limit]]
    kept, cut = _bounded(groups)
    return {"model": model._name, "groups": kept, "count": len(kept), "truncated": cut or more}


# ---------------------------------------------------------------- modules

_MODULE_ROW = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "state": {"type": "string"},
        "installed_version": {"type": "string",
                              "description": "version in the database (empty: never installed)"},
        "available_version": {"type": "string", "description": "version of the code on disk"},
        "update_pending": {"type": "boolean",
                           "description": "installed, and the code on disk is another version"},
        "summary": {"type": "string"},
    },
    "required": ["name", "state", "installed_version", "available_version", "update_pending",
                 "summary"],
}
_MODULE_FIELDS = ["name", "state", "latest_version", "installed_version", "shortdesc", "summary"]


def _module_row(row):
    # Odoo's swapped names: latest_version is what the database has, installed_version what
    # the manifest on disk says
    installed, available = row["latest_version"] or "", row["installed_version"] or ""
    return {"name": row["name"], "state": row["state"] or "", "installed_version": installed,
            "available_version": available,
            "update_pending": bool(row["state"] == "installed" and installed != available),
            "summary": row["summary"] or row["shortdesc"] or ""}


@tool(
    "list_modules",
    "List the modules of this database with their state (installed, uninstalled, to upgrade, "
    "...), the version installed in the database against the version of the code on disk, "
    "sorted by name. Filter by name substring and state.",
    properties={
        "name_contains": {"type": "string", "description": "Keep modules whose name contains this"},
        "state": {"type": "string", "enum": ["installed", "uninstalled", "uninstallable",
                                              "to install", "to upgrade", "to remove"],
                  "description": "Keep modules in this state"},
        "update_pending": {"type": "boolean",
                           "description": "true: only installed modules whose code is newer"},
        "limit": {"type": "integer", "minimum": 1, "maximum": 1000,
                  "description": "At most this many (default 200)"},
    },
    title="Modules",
    output_schema={
        "type": "object",
        "properties": {
            "count": {"type": "integer", "description": "modules matching, before the limit"},
            "modules": {"type": "array", "items": _MODULE_ROW},
            "truncated": _TRUNCATED,
        },
        "required": ["count", "modules", "truncated"],
    },
)
def list_modules(env, params):
    domain = []
    if params.get("name_contains"):
        domain.append(("name", "ilike", params["name_contains"]))
    if params.get("state"):
        domain.append(("state", "=", params["state"]))
    elif params.get("update_pending"):
        domain.append(("state", "=", "installed"))
    # module lists are in the read tier; ir.module.module is readable by Settings admins only
    rows = [_module_row(row) for row in
            env["ir.module.module"].sudo().search_read(domain, _MODULE_FIELDS, order="name")]
    if params.get("update_pending"):
        rows = [row for row in rows if row["update_pending"]]
    limit = params.get("limit", 200)
    kept, cut = _bounded(rows[:limit])
    return {"count": len(rows), "modules": kept, "truncated": cut or len(rows) > limit}


@tool(
    "get_module_info",
    "Describe one module by technical name: state, installed against available version, "
    "author, summary, website, license, application or not, and its dependencies with their "
    "states.",
    properties={"name": {"type": "string", "description": "Technical module name, e.g. sale"}},
    required=["name"],
    title="Module details",
    output_schema={
        "type": "object",
        "properties": {
            **_MODULE_ROW["properties"],
            "title": {"type": "string"},
            "author": {"type": "string"},
            "website": {"type": "string"},
            "license": {"type": "string"},
            "application": {"type": "boolean"},
            "dependencies": {"type": "array", "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "state": {"type": "string"}},
                "required": ["name", "state"]}},
        },
        "required": [*_MODULE_ROW["required"], "title", "author", "website", "license",
                     "application", "dependencies"],
    },
)
def get_module_info(env, params):
    module = env["ir.module.module"].sudo().search([("name", "=", params["name"])], limit=1)
    if not module:
        raise ToolError(f"no module named {params['name']!r}: list_modules gives the names")
    row = module.read(_MODULE_FIELDS + ["author", "website", "license", "application"])[0]
    info = _module_row(row)
    info.update(title=row["shortdesc"] or "", author=row["author"] or "",
                website=row["website"] or "", license=row["license"] or "",
                application=bool(row["application"]),
                dependencies=[{"name": dep.name, "state": dep.state or "unknown"}
                              for dep in module.dependencies_id.sorted("name")])
    return info


# ---------------------------------------------------------------- external ids

@tool(
    "resolve_xmlid",
    "Resolve an external id (module.name, e.g. base.main_company) to its model, record id and "
    "display name. Returns an error when it does not exist or you may not read the record.",
    properties={"xmlid": {"type": "string", "description": "Fully qualified: module.name"}},
    required=["xmlid"],
    title="Resolve an external id",
    output_schema={
        "type": "object",
        "properties": {
            "xmlid": {"type": "string"},
            "model": {"type": "string"},
            "id": {"type": "integer"},
            "display_name": {"type": "string"},
        },
        "required": ["xmlid", "model", "id", "display_name"],
    },
)
def resolve_xmlid(env, params):
    xmlid = params["xmlid"]
    if xmlid.count(".") < 1 or xmlid.startswith(".") or xmlid.endswith("."):
        raise ToolError(f"{xmlid!r}: an external id is module.name")
    model_name, res_id = env["ir.model.data"].sudo()._xmlid_to_res_model_res_id(xmlid)
    if not model_name:
        raise ToolError(f"external id {xmlid!r} not found")
    if model_name not in env:
        raise ToolError(f"external id {xmlid!r} points to {model_name}, a model not installed")
    # as the user: access rights and record rules decide whether the record is visible
    record = env[model_name].with_context(active_test=False).search([("id", "=", res_id)])
    if not record:
        raise ToolError(f"external id {xmlid!r} points to a {model_name} record that does not "
                        "exist or that you may not read")
    return {"xmlid": xmlid, "model": model_name, "id": res_id,
            "display_name": record.display_name or ""}

