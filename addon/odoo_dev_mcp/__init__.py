from . import controllers, mcp_tools, models, services
from .hooks import post_init_hook, uninstall_hook

__all__ = ["post_init_hook", "uninstall_hook"]
