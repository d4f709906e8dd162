"""odoo.tests: only what Odoo's test mode needs (see common.py)."""
