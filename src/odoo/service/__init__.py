from . import db, model  # noqa: F401
