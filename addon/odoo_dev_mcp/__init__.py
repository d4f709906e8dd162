from . import controllers, models, services, tools
from .hooks import post_init_hook

__all__ = ["post_init_hook"]
