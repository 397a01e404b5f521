"""The stand-in's directory: application registrations with their service principals, and users.

An Entra application has a client id and, in each tenant, a service principal with an object id of its
own; tokens it gets for itself carry the object id as ``oid`` and the client id as ``azp``. Confidential
clients have a secret; public clients (the console) have none and may only use the authorization code
flow with PKCE. Kept in memory: registrations made through ``POST /_sandbox/clients`` last until stop.
"""

from __future__ import annotations

import secrets
import string
import threading
import uuid
from dataclasses import dataclass, field
from typing import Any

from sandbox.entra import config
from sandbox.entra.tokens import Principal, PrincipalType

_SECRET_ALPHABET = string.ascii_letters + string.digits + "_-.~"


def new_secret() -> str:
    """A client secret in Entra's current format: three characters, ``8Q~``, then 34 more."""
    pick = secrets.choice
    return (
        "".join(pick(_SECRET_ALPHABET) for _ in range(3)) + "8Q~" + "".join(pick(_SECRET_ALPHABET) for _ in range(34))
    )


@dataclass(frozen=True)
class Client:
    client_id: str
    object_id: str
    display_name: str
    secret: str | None = None  # None: a public client
    redirect_uris: tuple[str, ...] = ()

    @property
    def public(self) -> bool:
        return self.secret is None

    @property
    def principal(self) -> Principal:
        return Principal(self.object_id, self.display_name, PrincipalType.SERVICE_PRINCIPAL)

    def describe(self, *, with_secret: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "client_id": self.client_id,
            "principal_id": self.object_id,
            "display_name": self.display_name,
            "public": self.public,
            "redirect_uris": list(self.redirect_uris),
        }
        if with_secret and self.secret is not None:
            body["client_secret"] = self.secret
        return body


class RegistrationError(ValueError):
    """A registration the control surface refuses (400)."""


@dataclass
class Directory:
    clients: dict[str, Client] = field(default_factory=dict)
    users: dict[str, Principal] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def bootstrap(cls) -> Directory:
        """The principals every sandbox starts with (ids in ``config``), the automation client's secret new."""
        directory = cls()
        directory.add_client(Client(config.CLIENT_ID, config.CLIENT_PRINCIPAL_ID, config.CLIENT_NAME, new_secret()))
        directory.add_client(
            Client(
                config.PUBLIC_CLIENT_ID,
                config.PUBLIC_CLIENT_PRINCIPAL_ID,
                config.PUBLIC_CLIENT_NAME,
                redirect_uris=(config.ANY_REDIRECT_URI,),
            )
        )
        for oid, name, username in (
            (config.OWNER_PRINCIPAL_ID, config.OWNER_NAME, config.OWNER_USERNAME),
            (config.USER_PRINCIPAL_ID, config.USER_NAME, config.USER_USERNAME),
        ):
            directory.users[oid] = Principal(oid, name, PrincipalType.USER, username)
        return directory

    def add_client(self, client: Client) -> Client:
        with self._lock:
            existing = self.clients.get(client.client_id)
            if existing is not None and existing != client:
                raise RegistrationError(f"client id {client.client_id} is already registered")
            self.clients[client.client_id] = client
            return client

    def client(self, client_id: str) -> Client | None:
        return self.clients.get(client_id.strip().lower())

    def register(self, body: dict[str, Any]) -> Client:
        """``POST /_sandbox/clients``: every field optional; a confidential client unless ``public``."""
        unknown = set(body) - {"client_id", "principal_id", "display_name", "client_secret", "public", "redirect_uris"}
        if unknown:
            raise RegistrationError(f"unknown fields: {sorted(unknown)}")
        client_id = _guid(body.get("client_id"), "client_id")
        object_id = _guid(body.get("principal_id"), "principal_id")
        name = body.get("display_name") or f"sandbox app {client_id[:8]}"
        public = body.get("public", False)
        secret = body.get("client_secret")
        uris = body.get("redirect_uris", [])
        if not isinstance(name, str) or not isinstance(public, bool):
            raise RegistrationError("display_name must be a string and public a boolean")
        if public and secret is not None:
            raise RegistrationError("a public client has no secret")
        if secret is not None and (not isinstance(secret, str) or not secret):
            raise RegistrationError("client_secret must be a non-empty string")
        if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
            raise RegistrationError("redirect_uris must be a list of strings")
        secret = None if public else (secret or new_secret())
        return self.add_client(Client(client_id, object_id, name, secret, tuple(uris)))


def _guid(value: object, name: str) -> str:
    if value is None:
        return str(uuid.uuid4())
    try:
        return str(uuid.UUID(str(value)))
    except ValueError as err:
        raise RegistrationError(f"{name} must be a GUID") from err
