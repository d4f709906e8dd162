"""Addon discovery and manifests (odoo/modules/module.py)."""
import ast
import copy
import importlib
import importlib.metadata
import importlib.util
import logging
import os
import re
import sys

from .. import release
from ..tools import config

_logger = logging.getLogger(__name__)

MANIFEST_NAMES = ('__manifest__.py',)

_DEFAULT_MANIFEST = {
    'application': False,
    'bootstrap': False,
    'assets': {},
    'author': 'Odoo S.A.',
    'auto_install': False,
    'category': 'Uncategorized',
    'configurator_snippets': {},
    'countries': [],
    'data': [],
    'demo': [],
    'demo_xml': [],
    'depends': [],
    'description': '',
    'external_dependencies': {},
    'init_xml': [],
    'installable': True,
    'images': [],
    'images_preview_theme': {},
    'live_test_url': '',
    'new_page_templates': {},
    'post_init_hook': '',
    'post_load': '',
    'pre_init_hook': '',
    'sequence': 100,
    'summary': '',
    'test': [],
    'update_xml': [],
    'uninstall_hook': '',
    'version': '1.0',
    'web': False,
    'website': '',
}

# Set by Odoo's test runner while tests run: 17.0 the module's name (at_install
# tests; None for post_install ones), 18.0/19.0 True then the running test case.
# Otherwise None on 17.0, False on 18.0/19.0.
current_test = None if release.SERIE_MAJOR < 18 else False


def initialize_sys_path():
    """Append config['addons_path'] entries to ``odoo.addons.__path__``."""
    import odoo.addons
    for path in config._as_list('addons_path'):
        path = os.path.normcase(os.path.abspath(path.strip()))
        if path not in odoo.addons.__path__ and os.path.isdir(path):
            odoo.addons.__path__.append(path)


def get_module_path(module, downloaded=False, display_warning=True):
    if re.search(r"[\/\\]", module) or module in ('.', '..'):
        return False
    initialize_sys_path()
    import odoo.addons
    for adp in odoo.addons.__path__:
        path = os.path.join(adp, module)
        if any(os.path.exists(os.path.join(path, name)) for name in MANIFEST_NAMES):
            return path
    if display_warning:
        _logger.warning('module %s: module not found', module)
    return False


def module_manifest(path):
    for name in MANIFEST_NAMES:
        candidate = os.path.join(path, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def load_manifest(module, mod_path=None):
    if not mod_path:
        mod_path = get_module_path(module, downloaded=True)
    manifest_file = module_manifest(mod_path) if mod_path else None
    if not manifest_file:
        _logger.debug('module %s: no manifest file found %s', module, MANIFEST_NAMES)
        return {}
    manifest = copy.deepcopy(_DEFAULT_MANIFEST)
    with open(manifest_file, encoding='utf-8') as f:
        manifest.update(ast.literal_eval(f.read()))
    if not manifest['description']:
        readme = [x for x in ('README.rst', 'README.md', 'README.txt')
                  if os.path.isfile(os.path.join(mod_path, x))]
        if readme:
            with open(os.path.join(mod_path, readme[0]), encoding='utf-8') as fd:
                manifest['description'] = fd.read()
    if not manifest.get('license'):
        manifest['license'] = 'LGPL-3'
        _logger.warning("Missing `license` key in manifest for %r, defaulting to LGPL-3", module)
    manifest['version'] = adapt_version(manifest['version'])
    manifest['addons_path'] = os.path.normpath(os.path.join(mod_path, os.pardir))
    return manifest


def get_manifest(module, mod_path=None):
    return copy.deepcopy(load_manifest(module, mod_path))


def adapt_version(version):
    """'1.0.0' -> '17.0.1.0.0' on 17.0, like real Odoo."""
    serie = release.major_version
    if version == serie or not version.startswith(serie + '.'):
        base_version = version
        version = f'{serie}.{version}'
    else:
        base_version = version[len(serie) + 1:]
    if not re.match(r"^[0-9]+\.[0-9]+(?:\.[0-9]+)?$", base_version):
        raise ValueError(f"Invalid version {base_version!r}. Modules should have a version in format "
                         f"`x.y`, `x.y.z`,"
                         f" `{serie}.x.y` or `{serie}.x.y.z`.")
    return version


def load_openerp_module(module_name):
    """Import ``odoo.addons.<module_name>`` (runs its models/controllers
    definitions) and its ``post_load`` hook."""
    qualname = f'odoo.addons.{module_name}'
    if qualname in sys.modules:
        return sys.modules[qualname]
    initialize_sys_path()
    try:
        module = importlib.import_module(qualname)
        info = get_manifest(module_name)
        if info.get('post_load'):
            getattr(module, info['post_load'])()
        return module
    except Exception:
        _logger.critical("Couldn't load module %s", module_name)
        raise


def check_python_external_dependency(pydep):
    try:
        importlib.metadata.distribution(pydep)
    except importlib.metadata.PackageNotFoundError as e:
        try:
            importlib.import_module(pydep)
        except ImportError:
            raise Exception(f'Python library not installed: {pydep}') from e


def check_manifest_dependencies(manifest):
    depends = manifest.get('external_dependencies') or {}
    for pydep in depends.get('python', []):
        check_python_external_dependency(pydep)
    for binary in depends.get('bin', []):
        import shutil
        if not shutil.which(binary):
            raise Exception(f'Unable to find {binary!r} in path')


def get_modules():
    initialize_sys_path()
    import odoo.addons
    found = set()
    for adp in odoo.addons.__path__:
        if not os.path.isdir(adp):
            continue
        for name in os.listdir(adp):
            if module_manifest(os.path.join(adp, name)):
                found.add(name)
    return sorted(found)


def get_resource_path(module, *args):
    mod_path = get_module_path(module)
    if not mod_path:
        return False
    path = os.path.join(mod_path, *args)
    return path if os.path.exists(path) else False
