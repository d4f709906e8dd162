from . import models
from .models.legacy import post_init_hook
