"""Settings of the ARM simulator: durations, limits and the choices the reference leaves open.

Everything a test may want to tune lives here, in one mutable ``Settings`` object owned by the store
(and so guarded by its lock). Durations are realistic Azure figures in seconds at time scale 1.0; an
operation started at ``t`` is ready at ``t + duration * time_scale`` (see ``lro.py``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from enum import StrEnum

from sandbox.arm.azurite import DEFAULT_POOL_SIZE

#: The subscription ``arm.json`` advertises. Any GUID-shaped subscription id is accepted by the
#: simulator (subscriptions spring into existence on first use), this one is only the default.
DEFAULT_SUBSCRIPTION_ID = "00000000-0000-4000-8000-0000000000a1"

#: The tenant the simulated role assignments and systemData claim to live in.
SANDBOX_TENANT_ID = "00000000-0000-4000-8000-0000000000f0"

#: The principal the simulator reports as the caller in ``systemData`` (it never decodes tokens).
SANDBOX_CALLER = "sandbox-caller@regctl.invalid"


class OpKind(StrEnum):
    """Kinds of long-running operation; each has a duration and a polling hint."""

    STORAGE_CREATE = "storage_create"
    REGISTRY_CREATE = "registry_create"
    REGISTRY_DELETE = "registry_delete"
    REPLICATION_CREATE = "replication_create"
    REPLICATION_DELETE = "replication_delete"
    HOME_REPLICATION_CREATE = "home_replication_create"
    IMPORT_IMAGE = "import_image"
    RESOURCE_GROUP_DELETE = "resource_group_delete"
    SYSTEM_TOPIC_CREATE = "system_topic_create"
    SYSTEM_TOPIC_DELETE = "system_topic_delete"
    EVENT_SUBSCRIPTION_CREATE = "event_subscription_create"
    EVENT_SUBSCRIPTION_DELETE = "event_subscription_delete"


#: Seconds at time scale 1.0. Sources: storage create 20-30 s and registry create "seconds" (issue 3),
#: geo-replica "minutes" (ACR docs; the 2026 azure-cli recording shows ~12 s for an empty registry,
#: a registry holding images takes minutes), the rest are typical figures seen in the portal.
DEFAULT_DURATIONS: dict[OpKind, float] = {
    OpKind.STORAGE_CREATE: 25.0,
    OpKind.REGISTRY_CREATE: 10.0,
    OpKind.REGISTRY_DELETE: 15.0,
    OpKind.REPLICATION_CREATE: 120.0,
    OpKind.REPLICATION_DELETE: 60.0,
    OpKind.HOME_REPLICATION_CREATE: 10.0,
    OpKind.IMPORT_IMAGE: 5.0,
    OpKind.RESOURCE_GROUP_DELETE: 30.0,
    OpKind.SYSTEM_TOPIC_CREATE: 5.0,
    OpKind.SYSTEM_TOPIC_DELETE: 5.0,
    OpKind.EVENT_SUBSCRIPTION_CREATE: 10.0,
    OpKind.EVENT_SUBSCRIPTION_DELETE: 5.0,
}

#: The polling interval each status response advertises (Retry-After) at time scale 1.0, capped by the
#: time the operation still needs. Storage: 17 s is the figure of the async-operations doc example;
#: resource group delete: ARM sends 15 s; ACR sends none in the recording (see ``acr_monitor_retry_after``).
DEFAULT_POLL_HINTS: dict[OpKind, float] = {
    OpKind.STORAGE_CREATE: 17.0,
    OpKind.REGISTRY_CREATE: 10.0,
    OpKind.REGISTRY_DELETE: 10.0,
    OpKind.REPLICATION_CREATE: 10.0,
    OpKind.REPLICATION_DELETE: 10.0,
    OpKind.HOME_REPLICATION_CREATE: 10.0,
    OpKind.IMPORT_IMAGE: 5.0,
    OpKind.RESOURCE_GROUP_DELETE: 15.0,
    OpKind.SYSTEM_TOPIC_CREATE: 5.0,
    OpKind.SYSTEM_TOPIC_DELETE: 5.0,
    OpKind.EVENT_SUBSCRIPTION_CREATE: 5.0,
    OpKind.EVENT_SUBSCRIPTION_DELETE: 5.0,
}


class HomeReplica(StrEnum):
    """When the implicit home-region replication of a Premium registry shows up in LIST/GET.

    ``on_first_replication`` (default) follows the 2026 azure-cli recording: the home replica is listed
    once the first replication was requested, created by the ACR first-party app. ``always`` lists it
    for every Premium registry; what Azure lists before any geo-replica exists is UNVERIFIED.
    """

    ON_FIRST_REPLICATION = "on_first_replication"
    ALWAYS = "always"


@dataclass
class Settings:
    """Runtime-tunable behaviour. Mutated only through the control surface, under the store lock."""

    time_scale: float = 1.0
    default_subscription_id: str = DEFAULT_SUBSCRIPTION_ID
    azurite_blob_endpoint: str = "http://127.0.0.1:10000"
    #: Azurite pool accounts (``AZURITE_ACCOUNTS`` must declare as many): storage accounts at once.
    blob_pool_size: int = DEFAULT_POOL_SIZE
    #: ``https://host:port`` of the blob proxy (``sandbox/blob``), set by the server once it listens;
    #: ``primaryEndpoints.blob`` is ``{blob_endpoint}/{account}/``.
    blob_endpoint: str = "https://127.0.0.1:8445"
    #: Storage accounts per region per subscription (Azure default 250, 500 on request).
    storage_account_quota: int = 250
    #: Items per page of every LIST; further pages are reached through ``nextLink``.
    page_size: int = 100
    #: Storage account names taken "by someone else" (another tenant): PUT 409, checkName false.
    taken_storage_names: set[str] = field(default_factory=set)
    #: Registry names taken "by someone else".
    taken_registry_names: set[str] = field(default_factory=set)
    #: Whether GET/LIST show a storage account while its create runs (provisioningState Creating,
    #: then ResolvingDNS). ``False`` answers 404 until it is done, as the ARM RPC recommends for 202.
    storage_visible_while_creating: bool = True
    home_replica: HomeReplica = HomeReplica.ON_FIRST_REPLICATION
    #: Send Retry-After on ACR status monitors. The real recording has none (the SDK then waits its
    #: ``polling_interval``, 30 s by default); sending it keeps scaled-down runs fast.
    acr_monitor_retry_after: bool = True
    #: The request log keeps at most this many entries (the oldest go first), so long runs stay bounded.
    request_log_limit: int = 200_000
    durations: dict[OpKind, float] = field(default_factory=lambda: dict(DEFAULT_DURATIONS))
    poll_hints: dict[OpKind, float] = field(default_factory=lambda: dict(DEFAULT_POLL_HINTS))

    def duration(self, kind: OpKind) -> float:
        """Scaled duration of an operation of ``kind`` started now."""
        return self.durations[kind] * self.time_scale

    def poll_hint(self, kind: OpKind) -> float:
        """Scaled polling interval for ``kind``."""
        return self.poll_hints[kind] * self.time_scale

    def snapshot(self) -> Settings:
        """A deep copy, used to restore the start-up settings on ``POST /_sandbox/reset``."""
        return copy.deepcopy(self)

    def as_json(self) -> dict[str, object]:
        return {
            "time_scale": self.time_scale,
            "default_subscription_id": self.default_subscription_id,
            "azurite_blob_endpoint": self.azurite_blob_endpoint,
            "blob_pool_size": self.blob_pool_size,
            "blob_endpoint": self.blob_endpoint,
            "storage_account_quota": self.storage_account_quota,
            "page_size": self.page_size,
            "storage_visible_while_creating": self.storage_visible_while_creating,
            "home_replica": self.home_replica.value,
            "acr_monitor_retry_after": self.acr_monitor_retry_after,
            "request_log_limit": self.request_log_limit,
            "durations": {k.value: v for k, v in self.durations.items()},
            "poll_hints": {k.value: v for k, v in self.poll_hints.items()},
        }
