"""The bearer token the CLI sends: ``$REGCTL_TOKEN`` as it is, else one from ``DefaultAzureCredential``.

- ``REGCTL_TOKEN``: an access token (a JWT), sent as ``Authorization: Bearer <token>``. For the sandbox:
  ``export REGCTL_TOKEN=$(python -m sandbox token --owner)``.
- else ``REGCTL_SCOPE`` (e.g. ``api://regctl/.default``): a token for that scope from azure-identity's
  ``DefaultAzureCredential`` (environment, workload or managed identity, ``az login``...), asked for on
  the first request and again when it is about to expire (a ``--wait`` can outlive a token).
- neither: no ``Authorization`` header.

The token is never printed or logged: messages about it name the variable, not the value.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from regctl.client import ApiError
from regctl.errors import UsageProblem

TOKEN_ENV = "REGCTL_TOKEN"  # noqa: S105  (the variable's name, not a token)
SCOPE_ENV = "REGCTL_SCOPE"
REFRESH_MARGIN = 300.0
"""Seconds before its ``expires_on`` that a credential's token is replaced."""
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*\Z")
"""RFC 6750's ``b64token``: what may follow ``Bearer`` in an ``Authorization`` header."""
_BEARER_PREFIX = re.compile(r"\s*bearer\s+", re.IGNORECASE)


class AccessTokenLike(Protocol):
    """``azure.core.credentials.AccessToken``."""

    @property
    def token(self) -> str: ...

    @property
    def expires_on(self) -> int: ...


class TokenCredentialLike(Protocol):
    """``azure.core.credentials.TokenCredential`` (what ``DefaultAzureCredential`` is)."""

    def get_token(self, *scopes: str) -> AccessTokenLike: ...


TokenSource = Callable[[], str]
"""Returns the token to send now (never an empty string)."""


class NoToken(ApiError):
    """``REGCTL_SCOPE`` is set and the credential gave no token (exit 2; each line of the reason on stderr)."""


def default_credential() -> TokenCredentialLike:
    """azure-identity's ``DefaultAzureCredential``, imported only when a token is needed (it is slow to import)."""
    from azure.identity import DefaultAzureCredential  # noqa: PLC0415

    # azure-identity logs each failure as a warning, which Python's last-resort handler would print before
    # regctl's own message (the same text twice): the reason reaches stderr once, through NoToken.
    logging.getLogger("azure").addHandler(logging.NullHandler())
    return DefaultAzureCredential()


def static_token(raw: str) -> TokenSource:
    """``$REGCTL_TOKEN``, with surrounding blanks and a leading ``Bearer`` removed; ``UsageProblem`` for a value
    that cannot go into a header (the message does not repeat it)."""
    token = _BEARER_PREFIX.sub("", raw.strip(), count=1)
    if not _B64TOKEN.match(token) or token.lower() == "bearer":
        raise UsageProblem(
            f"{TOKEN_ENV} is not an access token: it is empty or has blanks or characters a bearer token cannot "
            "have (the value is not shown)"
        )
    return lambda: token


class CredentialTokens:
    """Tokens for ``scope`` from a credential made on first use; kept until ``REFRESH_MARGIN`` before expiry."""

    def __init__(
        self,
        scope: str,
        credential: Callable[[], TokenCredentialLike],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.scope = scope
        self._make_credential = credential
        self._credential: TokenCredentialLike | None = None
        self._clock = clock
        self._token: str | None = None
        self._expires_on = 0.0

    def __call__(self) -> str:
        if self._token is None or self._clock() >= self._expires_on - REFRESH_MARGIN:
            self._token, self._expires_on = self._fetch()
        return self._token

    def _fetch(self) -> tuple[str, float]:
        from azure.core.exceptions import ClientAuthenticationError  # noqa: PLC0415  (only with REGCTL_SCOPE)

        try:
            if self._credential is None:
                self._credential = self._make_credential()
            access = self._credential.get_token(self.scope)
        except (ClientAuthenticationError, ValueError) as exc:
            reason = str(exc).strip() or type(exc).__name__
            raise NoToken(
                f"cannot get a token for {SCOPE_ENV}={self.scope} from DefaultAzureCredential: {reason}"
            ) from None
        token = access.token.strip() if isinstance(access.token, str) else ""
        if not token or not _B64TOKEN.match(token):
            raise NoToken(f"the credential gave no usable token for {SCOPE_ENV}={self.scope}")
        return token, float(access.expires_on)

    def close(self) -> None:
        close = getattr(self._credential, "close", None)
        if callable(close):
            close()


def token_source(
    environ: Mapping[str, str], credential: Callable[[], TokenCredentialLike]
) -> TokenSource | CredentialTokens | None:
    """What the environment asks for: ``REGCTL_TOKEN``, else ``REGCTL_SCOPE`` through ``credential``, else None."""
    raw = environ.get(TOKEN_ENV)
    if raw is not None and raw.strip():
        return static_token(raw)
    scope = (environ.get(SCOPE_ENV) or "").strip()
    if scope:
        return CredentialTokens(scope, credential)
    return None


def missing_token_hint(environ: Mapping[str, str]) -> str | None:
    """What to say after a 401 when no token was configured at all."""
    if (environ.get(TOKEN_ENV) or "").strip() or (environ.get(SCOPE_ENV) or "").strip():
        return None
    return (
        f"regctl: no token was sent: export {TOKEN_ENV}=<access token> (the sandbox's: "
        f"python -m sandbox token --owner), or set {SCOPE_ENV} (e.g. api://regctl/.default) for one from "
        "DefaultAzureCredential"
    )
