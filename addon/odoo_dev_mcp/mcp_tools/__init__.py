from . import read_tools, registry, server_tools  # noqa: F401  (tool modules register on import)
