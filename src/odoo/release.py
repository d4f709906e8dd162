"""Version information of the simulated Odoo.

The flavour is chosen ONCE, at import, by the ``ODOO_SIM_VERSION``
environment variable ("17.0" by default), exactly like a real Odoo
installation is one given series.  Everything version dependent in the
simulator reads ``odoo.release.version_info[0]`` (see ``SERIE_MAJOR``).
"""
import os

SUPPORTED = ('17.0', '18.0', '19.0')

_requested = os.environ.get('ODOO_SIM_VERSION', '17.0').strip() or '17.0'
if _requested not in SUPPORTED:
    raise ImportError(
        f"ODOO_SIM_VERSION={_requested!r} is not supported, use one of {', '.join(SUPPORTED)}")

RELEASE_LEVELS = [ALPHA, BETA, RELEASE_CANDIDATE, FINAL] = ['alpha', 'beta', 'candidate', 'final']
RELEASE_LEVELS_DISPLAY = {ALPHA: ALPHA, BETA: BETA, RELEASE_CANDIDATE: 'rc', FINAL: ''}

SERIE_MAJOR = int(_requested.split('.')[0])
# real odoo/release.py: (MAJOR, MINOR, MICRO, RELEASE_LEVEL, SERIAL, SUFFIX)
version_info = (SERIE_MAJOR, 0, 0, FINAL, 0, '')
version = ('.'.join(str(s) for s in version_info[:2]) + RELEASE_LEVELS_DISPLAY[version_info[3]]
           + str(version_info[4] or '') + version_info[5])
series = serie = major_version = '.'.join(str(s) for s in version_info[:2])

product_name = 'Odoo'
description = 'Odoo Server (simulated)'
nt_service_name = "odoo-server-" + series.replace('~', '-')
