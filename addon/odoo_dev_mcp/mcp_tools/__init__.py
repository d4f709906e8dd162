from . import registry, server_tools  # noqa: F401  (server_tools registers itself on import)
