"""``odoo.addons``: namespace of all addons.  Like real Odoo its ``__path__``
is extended with the entries of ``config['addons_path']`` (see
``odoo.modules.module.initialize_sys_path``), so an addon ``foo`` found
there is imported as ``odoo.addons.foo`` and its relative imports work."""
import os

__path__ = [os.path.abspath(p) for p in __path__]  # noqa: F821 - package __path__
