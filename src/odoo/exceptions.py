"""Same exception hierarchy as odoo/exceptions.py (names and bases matter:
the HTTP layer maps them to status codes by isinstance)."""


class UserError(Exception):
    def __init__(self, message):
        super().__init__(message)


class RedirectWarning(Exception):
    def __init__(self, message, action, button_text, additional_context=None):
        super().__init__(message, action, button_text, additional_context)


class AccessDenied(UserError):
    def __init__(self, message="Access Denied"):
        super().__init__(message)
        self.with_traceback(None)
        self.__cause__ = None
        self.traceback = ('', '', '')


class AccessError(UserError):
    pass


class CacheMiss(KeyError):
    def __init__(self, record, field):
        super().__init__(f"{record!r}.{field.name}")


class MissingError(UserError):
    pass


class LockError(UserError):
    pass


class ValidationError(UserError):
    pass
