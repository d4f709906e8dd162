from . import legacy
