{
    "name": "MCP naive registration (test double)",
    "summary": "Negative control for the simulators: the seed's read-then-write hostname check",
    "version": "1.0.0",
    "depends": ["base"],
    "license": "LGPL-3",
    "installable": True,
}
