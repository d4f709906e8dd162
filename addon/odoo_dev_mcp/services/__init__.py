from . import phone_home, registration, version  # noqa: F401
