"""Helpers of the blob data plane tests: simulated storage accounts and SDK clients on their endpoints."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from azure.storage.blob import BlobServiceClient, ContainerClient, LinearRetry, UserDelegationKey
from azure.storage.queue import QueueClient

from sandbox.arm.launcher import ArmEndpoint
from shared.adapters.credentials import StaticTokenCredential
from shared.adapters.queue_envelope import Envelope, decode
from tests.integration.arm.helpers import Clients, RawArm, unique

POOL_SIZE = 12
#: The Microsoft.EventGrid api version of the system topics and event subscriptions.
EVENTGRID_API = "2025-02-15"


def error_code(exc: BaseException) -> object:
    """The ``x-ms-error-code`` the storage SDK put on its exception."""
    return getattr(exc, "error_code", None)


@dataclass(frozen=True)
class Account:
    name: str
    blob_endpoint: str
    key: str


class Accounts:
    """Creates simulated storage accounts and opens blob clients on them."""

    def __init__(self, arm: ArmEndpoint, clients: Clients) -> None:
        self.arm = arm
        self.clients = clients
        self.group = f"rg-{uuid.uuid4().hex[:8]}"
        clients.resources.resource_groups.create_or_update(self.group, {"location": "eastus"})

    def create(self, location: str = "eastus", sku: str = "Standard_LRS") -> Account:
        name = unique("st")
        created = self.clients.storage.storage_accounts.begin_create(
            self.group, name, {"sku": {"name": sku}, "kind": "StorageV2", "location": location}
        ).result()
        keys = self.clients.storage.storage_accounts.list_keys(self.group, name).as_dict()["keys"]
        assert created.primary_endpoints is not None
        return Account(name, str(created.primary_endpoints.blob), str(keys[0]["value"]))

    def bearer(self, account: Account, **kwargs: Any) -> BlobServiceClient:
        """A client authenticated with a bearer token, as the function app's."""
        return BlobServiceClient(
            account.blob_endpoint, credential=StaticTokenCredential("sandbox"), **self._options(kwargs)
        )

    def shared_key(self, account: Account, **kwargs: Any) -> BlobServiceClient:
        credential = {"account_name": account.name, "account_key": account.key}
        return BlobServiceClient(account.blob_endpoint, credential=credential, **self._options(kwargs))

    def with_sas(self, url: str, **kwargs: Any) -> ContainerClient:
        """A container client on a SAS URL (the SAS is in the URL's query)."""
        return ContainerClient.from_container_url(url, **self._options(kwargs))

    def _options(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The CA bundle, and short retry waits (faults answer at once; the tests count the attempts)."""
        retries = kwargs.pop("retry_total", 3)
        policy = LinearRetry(backoff=0, random_jitter_range=0, retry_total=retries)
        return {"connection_verify": self.arm.ca_bundle, "retry_policy": policy, **kwargs}


def delegation_key(service: BlobServiceClient, hours: float = 1.0) -> UserDelegationKey:
    now = datetime.now(UTC)
    return service.get_user_delegation_key(now - timedelta(minutes=5), now + timedelta(hours=hours))


def in_hours(hours: float) -> datetime:
    return datetime.now(UTC) + timedelta(hours=hours)


def put_and_wait(raw: RawArm, path: str, body: dict[str, Any]) -> None:
    """PUT an Event Grid resource and wait until it is ``Succeeded``."""
    made = raw.request("PUT", path, api=EVENTGRID_API, json=body)
    assert made.status_code == 201, made.text
    deadline = time.monotonic() + 10
    while raw.request("GET", path, api=EVENTGRID_API).json()["properties"]["provisioningState"] != "Succeeded":
        assert time.monotonic() < deadline, path
        time.sleep(0.01)


def received(queue: QueueClient, count: int) -> list[Envelope]:
    """Wait for ``count`` messages on ``queue`` (received: hidden for five minutes), in the regctl envelope."""
    found: list[Envelope] = []
    deadline = time.monotonic() + 15
    while len(found) < count:
        assert time.monotonic() < deadline, found
        found += [decode(m.content) for m in queue.receive_messages(messages_per_page=32, visibility_timeout=300)]
        time.sleep(0.05)
    return found
