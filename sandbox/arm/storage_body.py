"""The storage account as Azure returns it: GET, LIST, the PUT/PATCH answers and the create monitor's result.

The body is the properties the client sent (kept as sent, so ``keyPolicy``, ``sasPolicy``,
``routingPreference``, ``networkAcls.resourceAccessRules`` … come back) laid over what Azure fills in
itself. Shapes follow the REST API spec examples (``StorageAccountCreate.json``,
``StorageAccountGetProperties.json``, ``StorageAccountUpdate.json``,
``StorageAccountGetPropertiesGeoReplicationStatscanFailoverFalse.json``) and, for ``secondaryEndpoints``,
the ``az storage account create --sku Standard_RAGRS`` output on Microsoft Learn:

* ``primaryEndpoints.microsoftEndpoints`` (blob, dfs, file, queue, table, web) and ``internetEndpoints``
  (blob, dfs, file, web: ``StorageAccountInternetEndpoints`` has no queue or table) when
  ``routingPreference.publishMicrosoftEndpoints`` / ``publishInternetEndpoints`` ask for them;
* ``secondaryLocation`` (the region's pair) and ``statusOfSecondary`` for GRS, RA-GRS, GZRS, RA-GZRS, and
  ``secondaryEndpoints`` (blob, dfs, queue, table, web) for the read-access ones;
* ``geoReplicationStats`` only when the GET asks ``$expand=geoReplicationStats``;
* ``encryption.services.{service}.lastEnabledTime`` for blob and file (always encrypted) and every
  other service the requests enabled, at the time it was enabled.

Blob (and dfs) endpoints are the simulator's blob proxy, path-style: ``{blob_endpoint}/{account}/``
(``{account}-secondary`` for the RA-GRS secondary, which the proxy sends to Azurite's read-only
secondary). Queue and table endpoints are Azurite's, of the account's pool account. Azurite has no
routing variants, so the routing endpoints of blob, dfs, queue and table are the primary ones (the same
data, as in Azure). File and web endpoints are names only (Azurite has neither).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.arm import azurite
from sandbox.arm.bodies import deep_merge
from sandbox.arm.config import Settings
from sandbox.arm.lro import iso
from sandbox.arm.routes import STORAGE_TYPE
from sandbox.arm.state import StorageAccount
from sandbox.arm.storage_rules import GEO_REDUNDANT_SKUS, READ_ACCESS_SKUS
from shared.domain.region_pairs import paired_region

#: Fraction of a create spent in ``Creating`` before ``ResolvingDNS``.
_CREATING_SHARE = 0.8

#: Services whose data Azure always encrypts ("cannot be disabled"); queue and table only on request.
ALWAYS_ENCRYPTED = ("blob", "file")
ENCRYPTION_SERVICES = ("blob", "file", "queue", "table")

#: Which services each kind of endpoint set names (spec models ``Endpoints``,
#: ``StorageAccountMicrosoftEndpoints``, ``StorageAccountInternetEndpoints``; the RA-GRS output).
_PRIMARY = ("blob", "dfs", "file", "queue", "table", "web")
_MICROSOFT_ROUTING = _PRIMARY
_INTERNET_ROUTING = ("blob", "dfs", "file", "web")
_SECONDARY = ("blob", "dfs", "queue", "table", "web")

#: ``$expand`` values that add a property to the GET.
EXPAND_GEO_STATS = "georeplicationstats"


def provisioning_state(acct: StorageAccount, now: float) -> str:
    op = acct.create_op
    if op is None or op.done:
        return "Succeeded"
    span = max(op.ready_at - op.started, 1e-9)
    return "Creating" if (now - op.started) / span < _CREATING_SHARE else "ResolvingDNS"


def enabled_encryption_services(properties: dict[str, Any]) -> set[str]:
    """The services encrypted per ``properties``: blob and file always, others when sent enabled."""
    enabled = set(ALWAYS_ENCRYPTED)
    encryption = properties.get("encryption")
    services = encryption.get("services") if isinstance(encryption, dict) else None
    if isinstance(services, dict):
        for name, service in services.items():
            if name in ENCRYPTION_SERVICES and isinstance(service, dict) and service.get("enabled", True):
                enabled.add(name)
    return enabled


def record_encryption(acct: StorageAccount, when: datetime) -> None:
    """Stamp ``when`` on services newly enabled by the account's properties (after a PUT or PATCH)."""
    enabled = enabled_encryption_services(acct.properties)
    for name in enabled:
        acct.encryption_enabled.setdefault(name, when)
    for name in [n for n in acct.encryption_enabled if n not in enabled]:
        del acct.encryption_enabled[name]


def _defaults(acct: StorageAccount) -> dict[str, Any]:
    """What Azure fills in for properties the request left out."""
    created = iso(acct.created_wall)
    props: dict[str, Any] = {
        "creationTime": created,
        "primaryLocation": acct.location,
        "statusOfPrimary": "available",
        "isHnsEnabled": False,
        "minimumTlsVersion": "TLS1_2",
        "allowBlobPublicAccess": False,
        "supportsHttpsTrafficOnly": True,
        "accountMigrationInProgress": False,
        "isSkuConversionBlocked": False,
        "keyCreationTime": {"key1": created, "key2": created},
        "networkAcls": {
            "bypass": "AzureServices",
            "virtualNetworkRules": [],
            "ipRules": [],
            "defaultAction": "Allow",
        },
        "encryption": {"keySource": "Microsoft.Storage", "services": {}},
    }
    if acct.kind in ("StorageV2", "BlobStorage"):
        props["accessTier"] = "Hot"
    return props


def _encryption(props: dict[str, Any], acct: StorageAccount) -> None:
    """Every enabled service with ``keyType``, ``enabled`` and ``lastEnabledTime``; no disabled ones."""
    encryption = props.get("encryption")
    if not isinstance(encryption, dict):
        encryption = props["encryption"] = {"keySource": "Microsoft.Storage"}
    raw = encryption.get("services")
    sent: dict[str, Any] = raw if isinstance(raw, dict) else {}
    services: dict[str, Any] = {}
    for name in ENCRYPTION_SERVICES:
        enabled_at = acct.encryption_enabled.get(name)
        if enabled_at is None:
            continue
        entry = sent.get(name)
        given: dict[str, Any] = entry if isinstance(entry, dict) else {}
        services[name] = {"keyType": "Account", **given, "enabled": True, "lastEnabledTime": iso(enabled_at)}
    encryption["services"] = services


def _endpoint(
    acct: StorageAccount, settings: Settings, service: str, suffix: str, *, secondary: bool, pool_name: str
) -> str:
    if service in ("blob", "dfs"):
        tail = azurite.SECONDARY_SUFFIX if secondary else ""
        return f"{settings.blob_endpoint.rstrip('/')}/{acct.name}{tail}/"
    if service in ("queue", "table"):
        offset = 1 if service == "queue" else 2
        return azurite.service_endpoint(settings.azurite_blob_endpoint, pool_name, offset, secondary=secondary)
    if service == "file":
        return f"https://{acct.name}{suffix}.file.core.windows.net/"
    return f"https://{acct.name}{suffix}.z13.web.core.windows.net/"


def _endpoints(
    acct: StorageAccount,
    settings: Settings,
    services: tuple[str, ...],
    pool_name: str,
    suffix: str = "",
    *,
    secondary: bool = False,
) -> dict[str, Any]:
    return {
        service: _endpoint(acct, settings, service, suffix, secondary=secondary, pool_name=pool_name)
        for service in services
    }


def _primary_endpoints(
    acct: StorageAccount, settings: Settings, props: dict[str, Any], pool_name: str
) -> dict[str, Any]:
    endpoints = _endpoints(acct, settings, _PRIMARY, pool_name)
    routing = props.get("routingPreference")
    if isinstance(routing, dict):
        if routing.get("publishMicrosoftEndpoints"):
            endpoints["microsoftEndpoints"] = _endpoints(
                acct, settings, _MICROSOFT_ROUTING, pool_name, "-microsoftrouting"
            )
        if routing.get("publishInternetEndpoints"):
            endpoints["internetEndpoints"] = _endpoints(
                acct, settings, _INTERNET_ROUTING, pool_name, "-internetrouting"
            )
    return endpoints


def geo_replication_stats(acct: StorageAccount, state: str, now_wall: datetime) -> dict[str, Any]:
    """``geoReplicationStats``: ``Live`` and failover-ready once created (``Bootstrap`` before)."""
    live = state == "Succeeded"
    stats: dict[str, Any] = {
        "status": "Live" if live else "Bootstrap",
        "canFailover": live,
        "canPlannedFailover": live,
        # After an unplanned failover the new primary is locally redundant; a planned one keeps the SKU
        # (spec enums PostFailoverRedundancy / PostPlannedFailoverRedundancy).
        "postFailoverRedundancy": "Standard_LRS",
        "postPlannedFailoverRedundancy": acct.sku,
    }
    if live:
        # Every write before this instant is in the secondary: the simulator replicates instantly.
        stats["lastSyncTime"] = now_wall.strftime("%Y-%m-%dT%H:%M:%SZ")
    return stats


def account_body(
    acct: StorageAccount,
    settings: Settings,
    now: float,
    *,
    expand: frozenset[str] = frozenset(),
    now_wall: datetime | None = None,
) -> dict[str, Any]:
    """The account at monotonic time ``now``; ``expand`` holds lowercased ``$expand`` values."""
    state = provisioning_state(acct, now)
    props = deep_merge(_defaults(acct), acct.properties)
    props["provisioningState"] = state
    _encryption(props, acct)
    secondary = paired_region(acct.location) if acct.sku in GEO_REDUNDANT_SKUS else None
    if secondary is not None:
        props["secondaryLocation"] = secondary
        props["statusOfSecondary"] = "available"
    if state != "Creating":
        # Endpoints exist once DNS is being set up; code must not read them earlier.
        pool_name = azurite.pool_account(acct.pool_index)[0]
        props["primaryEndpoints"] = _primary_endpoints(acct, settings, props, pool_name)
        if secondary is not None and acct.sku in READ_ACCESS_SKUS:
            props["secondaryEndpoints"] = _endpoints(
                acct, settings, _SECONDARY, pool_name, "-secondary", secondary=True
            )
    if EXPAND_GEO_STATS in expand and secondary is not None and now_wall is not None:
        props["geoReplicationStats"] = geo_replication_stats(acct, state, now_wall)
    body: dict[str, Any] = {
        "id": acct.id,
        "name": acct.name,
        "type": STORAGE_TYPE,
        "location": acct.location,
    }
    if acct.extended_location is not None:
        body["extendedLocation"] = dict(acct.extended_location)
    body.update(
        {
            "kind": acct.kind,
            "sku": {"name": acct.sku, "tier": "Premium" if acct.sku.startswith("Premium") else "Standard"},
            "tags": dict(acct.tags),
            "properties": props,
        }
    )
    return body


def parse_expand(raw: str) -> frozenset[str]:
    """``$expand`` values (comma-separated, case-insensitive) as a lowercased set."""
    return frozenset(part.strip().lower() for part in raw.split(",") if part.strip())
