"""Fleet receiver: the HTTP service that Odoo servers running the odoo-dev-mcp
addon phone home to (``POST /register``, ``POST /heartbeat``), with a small
read API for DevOps (``GET /servers``).

Run it with ``python -m receiver --help``; see ``receiver/README.md``.
"""

__version__ = "1.2.0"

__all__ = ["__version__"]
