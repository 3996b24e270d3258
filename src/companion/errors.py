"""One error base for the whole application; each error carries its HTTP status.

    CompanionError (500)
    ├── BadRequest (400)
    │   └── ValidationFailed (422)
    │       └── BusinessRuleViolation (422)    a rule of the ERP refused the change
    ├── NotAuthenticated (401)
    ├── PermissionDenied (403)
    ├── NotFound (404)                          also for another company's records
    ├── Conflict (409)
    │   └── InvalidState (409)                  the record's state forbids the operation
    ├── PayloadTooLarge (413)
    ├── UnsupportedMediaType (415)
    ├── RateLimited (429)
    └── ServiceUnavailable (503)
        ├── DatabaseNotMigrated (503)
        ├── DatabaseBusy (503)                  SQLite's write lock was not had in time
        └── DatabaseUnavailable (503)           the connection to the database was lost

A ``retry_after`` (seconds) in an error's details is also sent as the Retry-After header.

Domain errors subclass these beside their service; one handler in ``web`` renders the
JSON envelope ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any


class CompanionError(Exception):
    """Base of every error the application raises on purpose."""

    status_code: int = 500
    code: str = "internal_error"

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON error envelope."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadRequest(CompanionError):
    status_code = 400
    code = "bad_request"


class ValidationFailed(BadRequest):
    status_code = 422
    code = "validation_failed"


class BusinessRuleViolation(ValidationFailed):
    code = "business_rule_violation"


class NotAuthenticated(CompanionError):
    status_code = 401
    code = "not_authenticated"


class PermissionDenied(CompanionError):
    status_code = 403
    code = "permission_denied"


class NotFound(CompanionError):
    status_code = 404
    code = "not_found"


class Conflict(CompanionError):
    status_code = 409
    code = "conflict"


class InvalidState(Conflict):
    code = "invalid_state"


class PayloadTooLarge(CompanionError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(CompanionError):
    status_code = 415
    code = "unsupported_media_type"


class RateLimited(CompanionError):
    status_code = 429
    code = "rate_limited"


class ServiceUnavailable(CompanionError):
    status_code = 503
    code = "service_unavailable"


class DatabaseNotMigrated(ServiceUnavailable):
    code = "database_not_migrated"


class DatabaseBusy(ServiceUnavailable):
    """The database stayed locked by another writer past the busy timeout; try again."""

    code = "database_busy"


class DatabaseUnavailable(ServiceUnavailable):
    """The database connection was lost mid-request (server restarted, connection killed)."""

    code = "database_unavailable"
