from . import mcp_endpoint  # noqa: F401
