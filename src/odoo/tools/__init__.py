from . import config as _config_module  # noqa: F401
from .cache import ormcache, ormcache_context
from .config import config
from .misc import Callbacks, lazy_property, str2bool, unique
from .safe_eval import safe_eval
from .sql import SQL
from .translate import _

DEFAULT_SERVER_DATE_FORMAT = "%Y-%m-%d"
DEFAULT_SERVER_TIME_FORMAT = "%H:%M:%S"
DEFAULT_SERVER_DATETIME_FORMAT = f"{DEFAULT_SERVER_DATE_FORMAT} {DEFAULT_SERVER_TIME_FORMAT}"

__all__ = ['config', 'ormcache', 'ormcache_context', 'Callbacks', 'lazy_property',
           'str2bool', 'unique', 'safe_eval', '_', 'SQL',
           'DEFAULT_SERVER_DATE_FORMAT', 'DEFAULT_SERVER_TIME_FORMAT',
           'DEFAULT_SERVER_DATETIME_FORMAT']
