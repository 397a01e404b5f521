"""Signing keys of the token issuer: the JWKS document, fetched and cached (shared/adapters/identity.py).

Keys are fetched on first use, again after ``lifespan``, and when a token names an unknown ``kid`` (a key
rotation), but at most once per ``refresh_cooldown`` seconds, so a flood of tokens with made-up ``kid``
values costs at most one JWKS request per cooldown. Thread-safe.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

import jwt
import requests

from shared.domain.errors import TransientError

log = logging.getLogger(__name__)

MAX_JWKS_BYTES = 1024 * 1024
_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class JwksUnavailable(TransientError):
    """The JWKS endpoint could not be read (network, status, body)."""

    code = "AuthenticationUnavailable"


JwksFetch = Callable[[], Mapping[str, Any]]
"""Returns the JWKS document (``{"keys": [...]}``); raises ``JwksUnavailable`` when it cannot."""


def check_jwks_uri(uri: str) -> None:
    """HTTPS only, except plain HTTP to a loopback host (tests)."""
    parsed = urlparse(uri)
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and parsed.hostname in _LOOPBACK:
        return
    raise ValueError(f"the JWKS URI must be an https:// URL, got {uri!r}")


def requests_jwks_fetcher(uri: str, *, ca_bundle: str | None = None, timeout: float = 10.0) -> JwksFetch:
    """A ``JwksFetch`` over ``requests``. With ``ca_bundle`` the server's certificate must chain to it, and
    the environment is not read (``REQUESTS_CA_BUNDLE`` would otherwise win); without, the system store."""
    check_jwks_uri(uri)
    session = requests.Session()
    verify: bool | str = True
    if ca_bundle:
        session.trust_env = False
        verify = ca_bundle

    def fetch() -> Mapping[str, Any]:
        try:
            response = session.get(
                uri, timeout=timeout, verify=verify, allow_redirects=False, headers={"Accept": "application/json"}
            )
        except requests.RequestException as exc:
            raise JwksUnavailable(f"could not reach the JWKS endpoint {uri}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise JwksUnavailable(f"the JWKS endpoint {uri} answered {response.status_code}")
        if len(response.content) > MAX_JWKS_BYTES:
            raise JwksUnavailable(f"the JWKS document of {uri} is larger than {MAX_JWKS_BYTES} bytes")
        try:
            document = response.json()
        except ValueError as exc:
            raise JwksUnavailable(f"the JWKS endpoint {uri} answered no JSON") from exc
        if not isinstance(document, dict):
            raise JwksUnavailable(f"the JWKS endpoint {uri} answered no JSON object")
        return document

    return fetch


def _signing_keys(document: Mapping[str, Any]) -> dict[str, Any]:
    """The RSA signature keys of a JWKS document by ``kid``; raises ``JwksUnavailable`` when there are none."""
    keys: dict[str, Any] = {}
    raw = document.get("keys")
    for entry in raw if isinstance(raw, list) else []:
        if not isinstance(entry, dict) or entry.get("kty") != "RSA" or entry.get("use", "sig") != "sig":
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            keys[kid] = jwt.PyJWK({**entry, "alg": "RS256"}).key
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            log.warning("JWKS key %s skipped: %s", kid, type(exc).__name__)
    if not keys:
        raise JwksUnavailable("the JWKS document lists no RSA signing key")
    return keys


class JwksCache:
    """Signing keys by ``kid``, thread-safe. See the module docstring for when it fetches."""

    def __init__(
        self,
        fetch: JwksFetch,
        *,
        refresh_cooldown: float = 30.0,
        lifespan: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if refresh_cooldown < 0 or lifespan <= 0:
            raise ValueError("refresh_cooldown must be >= 0 and lifespan > 0")
        self._fetch = fetch
        self._cooldown = refresh_cooldown
        self._lifespan = lifespan
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Mapping[str, Any] | None = None  # replaced whole, never mutated: read without the lock
        self._expires_at = 0.0
        self._last_fetch: float | None = None
        self.fetches = 0
        """How many JWKS fetches were attempted (for tests and metrics)."""

    def key(self, kid: str) -> Any | None:
        """The public key of ``kid``, or ``None`` when the JWKS does not list it (after at most one refresh)."""
        keys = self._keys
        if keys is None or self._clock() >= self._expires_at:
            with self._lock:
                if self._keys is None:
                    if not self._cooled_down():  # the first fetch failed moments ago: do not queue on it
                        raise JwksUnavailable("the signing keys could not be fetched; retry later")
                    self._refresh(required=True)
                elif self._clock() >= self._expires_at:
                    self._refresh(required=False)
                keys = self._keys
        assert keys is not None
        if kid in keys:
            return keys[kid]
        with self._lock:
            keys = self._keys
            assert keys is not None
            if kid not in keys and self._cooled_down():
                self._refresh(required=False)
                keys = self._keys
                assert keys is not None
            return keys.get(kid)

    def _cooled_down(self) -> bool:
        return self._last_fetch is None or self._clock() - self._last_fetch >= self._cooldown

    def _refresh(self, *, required: bool) -> None:
        """Fetch the JWKS (the lock is held). ``required``: no keys yet, so a failure is raised; otherwise
        the keys in hand are kept and the next attempt waits for the cooldown."""
        now = self._clock()
        self._last_fetch = now
        self.fetches += 1
        try:
            keys = _signing_keys(self._fetch())
        except JwksUnavailable as exc:
            if required:
                raise
            log.warning("JWKS refresh failed, keeping the %d keys in hand: %s", len(self._keys or {}), exc.message)
            self._expires_at = now + max(self._cooldown, 1.0)
            return
        self._keys = keys
        self._expires_at = now + self._lifespan
        log.info("JWKS fetched: %d signing keys", len(keys))


# --- Bearer tokens ------------------------------------------------------------------------------------
