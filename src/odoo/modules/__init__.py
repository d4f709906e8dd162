from . import (  # noqa: F401,E402
    loading,
    module,  # noqa: F401
    registry,
)
from .loading import load_modules, reset_modules_state  # noqa: F401,E402
from .module import (  # noqa: F401
    adapt_version,
    get_manifest,
    get_module_path,
    get_modules,
    get_resource_path,
    initialize_sys_path,
    load_openerp_module,
)
