"""The one error type routes turn into a 4xx JSON response.

Every client mistake the receiver detects is raised as a ``ClientError`` so
that one place decides its HTTP shape and nothing half-validated reaches
storage.
"""

from __future__ import annotations


class ClientError(Exception):
    """A request the client must fix; rendered as ``{"error", "message"[, "field"]}``."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def to_json(self) -> dict:
        body = {"error": self.code, "message": self.message}
        if self.field is not None:
            body["field"] = self.field
        return body


class StorageError(Exception):
    """The storage backend cannot be opened or cannot complete a write."""
