"""The one error tree of regctl (DESIGN.md section 5, "Errors").

- ``RegctlError`` is the root; every error carries a machine ``code`` and a human message.
- ``TransientError`` may succeed if retried later (``retry_after`` seconds, if the cause said so).
- ``PermanentError`` will fail again the same way; the step and its operation are marked Failed.
- Request errors (``InvalidSpec``, ``NotFound``, ``Conflict``, ``Forbidden``) are answered to the caller
  and never stored or enqueued.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One offending field: ``path`` such as ``replication_locations[1].location``, and what to do."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class RegctlError(Exception):
    """Root of the error tree."""

    code: str = "RegctlError"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else self.code


class TransientError(RegctlError):
    """Retry later; ``retry_after`` is the delay (seconds) the cause asked for, if any."""

    code = "Transient"

    def __init__(self, message: str, *, code: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class ConcurrentUpdate(TransientError):
    """A write lost an optimistic-concurrency (ETag) race: read again and apply the change to what is there
    now. Transient: the same change applied to the fresh record succeeds."""

    code = "ConcurrentUpdate"


class StatusUnreadable(TransientError):
    """The status of a running long-running operation could not be read (throttled, or no answer): the
    operation itself may well still be running, so it is polled again later, not started again."""


class PermanentError(RegctlError):
    """Retrying cannot help; ``field`` names the spec field at fault, when there is one."""

    code = "Permanent"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None) -> None:
        super().__init__(message, code=code)
        self.field = field


class NameTaken(PermanentError):
    """A globally unique name (a storage account's, a registry's) is held by someone else in Azure: the step
    moves to the next name of its naming sequence (shared/domain/naming.py)."""

    code = "NameTaken"


class RequestError(RegctlError):
    """An error answered to the caller; HTTP status by subclass."""

    status = 400


class InvalidSpec(RequestError):
    """The request (a registry spec, a patch, a header) is invalid; ``errors`` lists each field."""

    code = "InvalidSpec"
    status = 422

    def __init__(
        self,
        message: str,
        errors: list[FieldError] | None = None,
        *,
        code: str | None = None,
        warnings: list[str] | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.errors = list(errors or [])
        self.warnings = list(warnings or [])

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        return self.message + "\n" + "\n".join(f"  - {e}" for e in self.errors)


class NotFound(RequestError):
    code = "NotFound"
    status = 404


class Conflict(RequestError):
    code = "Conflict"
    status = 409


class Forbidden(RequestError):
    code = "Forbidden"
    status = 403


class Unauthenticated(RequestError):
    """The caller is not (validly) authenticated: code ``AuthenticationRequired`` when no credential came,
    ``InvalidAuthenticationToken`` (the default) when the one that came is refused. Never echoes a token."""

    code = "InvalidAuthenticationToken"
    status = 401
