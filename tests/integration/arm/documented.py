"""Documented Azure responses, as key shapes, and the requests that produced them.

Each ``*_KEYS`` shape is the response body of a REST API spec example (Azure/azure-rest-api-specs,
path in the comment) with its values blanked: a ``None`` leaf is a documented key, a one-item list is
"every item has these keys". Only keys are compared; values are the simulator's own (its names, its
regions, its clock). The ``*_REQUEST`` bodies are the examples' requests, so the simulator is asked
exactly what Azure was asked.
"""

from __future__ import annotations

from typing import Any

_SPECS = "specification"
STORAGE_EXAMPLES = f"{_SPECS}/storage/resource-manager/Microsoft.Storage"
ACR_EXAMPLES = (
    f"{_SPECS}/containerregistry/resource-manager/Microsoft.ContainerRegistry/Registry/stable/2025-11-01/examples"
)

_ENCRYPTED = {"keyType": None, "enabled": None, "lastEnabledTime": None}
_ROUTING = {"routingChoice": None, "publishMicrosoftEndpoints": None, "publishInternetEndpoints": None}
_PRIMARY_ENDPOINTS = {
    "blob": None,
    "dfs": None,
    "file": None,
    "queue": None,
    "table": None,
    "web": None,
    "microsoftEndpoints": {"blob": None, "dfs": None, "file": None, "queue": None, "table": None, "web": None},
    "internetEndpoints": {"blob": None, "dfs": None, "file": None, "web": None},
}
_ACCOUNT_TOP = {
    "id": None,
    "name": None,
    "type": None,
    "location": None,
    "kind": None,
    "sku": {"name": None, "tier": None},
}

# Storage/examples/2026-06-01/StorageAccountCreate.json. The example creates kind "Storage" with
# isHnsEnabled, which Azure refuses (a hierarchical namespace needs StorageV2 or BlockBlobStorage), so
# the request here says StorageV2; nothing else differs.
STORAGE_CREATE_REQUEST: dict[str, Any] = {
    "sku": {"name": "Standard_GRS"},
    "kind": "StorageV2",
    "location": "eastus",
    "extendedLocation": {"type": "EdgeZone", "name": "losangeles001"},
    "properties": {
        "keyPolicy": {"keyExpirationPeriodInDays": 20},
        "sasPolicy": {
            "sasExpirationPeriod": "1.15:59:59",
            "expirationAction": "Log",
            "requireUserBoundUserDelegationSas": True,
            "requireUserBoundUserDelegationSasAction": "Block",
        },
        "isHnsEnabled": True,
        "isSftpEnabled": True,
        "allowBlobPublicAccess": False,
        "defaultToOAuthAuthentication": False,
        "minimumTlsVersion": "TLS1_2",
        "allowSharedKeyAccess": True,
        "routingPreference": {
            "routingChoice": "MicrosoftRouting",
            "publishMicrosoftEndpoints": True,
            "publishInternetEndpoints": True,
        },
        "encryption": {
            "services": {
                "file": {"keyType": "Account", "enabled": True},
                "blob": {"keyType": "Account", "enabled": True},
            },
            "requireInfrastructureEncryption": False,
            "keySource": "Microsoft.Storage",
        },
        "geoPriorityReplicationStatus": {"isBlobEnabled": True},
        "allowSharedKeyAccessForServices": {
            "blob": {"enabled": True},
            "file": {"enabled": False},
            "queue": {"enabled": True},
            "table": {"enabled": False},
        },
        "allowCrossTenantDelegationSas": False,
    },
    "tags": {"key1": "value1", "key2": "value2"},
}

# Storage/examples/2026-06-01/StorageAccountCreate.json, response 200.
STORAGE_CREATE_KEYS: dict[str, Any] = {
    **_ACCOUNT_TOP,
    "extendedLocation": {"type": None, "name": None},
    "tags": {"key1": None, "key2": None},
    "properties": {
        "allowBlobPublicAccess": None,
        "allowCrossTenantDelegationSas": None,
        "allowSharedKeyAccess": None,
        "allowSharedKeyAccessForServices": {
            "blob": {"enabled": None},
            "file": {"enabled": None},
            "queue": {"enabled": None},
            "table": {"enabled": None},
        },
        "creationTime": None,
        "encryption": {
            "keySource": None,
            "requireInfrastructureEncryption": None,
            "services": {"blob": _ENCRYPTED, "file": _ENCRYPTED},
        },
        "geoPriorityReplicationStatus": {"isBlobEnabled": None},
        "isHnsEnabled": None,
        "isSftpEnabled": None,
        "keyCreationTime": {"key1": None, "key2": None},
        "keyPolicy": {"keyExpirationPeriodInDays": None},
        "minimumTlsVersion": None,
        "primaryEndpoints": _PRIMARY_ENDPOINTS,
        "primaryLocation": None,
        "provisioningState": None,
        "routingPreference": _ROUTING,
        "sasPolicy": {
            "expirationAction": None,
            "sasExpirationPeriod": None,
            "requireUserBoundUserDelegationSas": None,
            "requireUserBoundUserDelegationSasAction": None,
        },
        "secondaryLocation": None,
        "statusOfPrimary": None,
        "statusOfSecondary": None,
        "supportsHttpsTrafficOnly": None,
    },
}

# stable/2023-05-01/examples/StorageAccountUpdate.json, request.
STORAGE_UPDATE_REQUEST: dict[str, Any] = {
    "properties": {
        "keyPolicy": {"keyExpirationPeriodInDays": 20},
        "sasPolicy": {"sasExpirationPeriod": "1.15:59:59", "expirationAction": "Log"},
        "allowBlobPublicAccess": False,
        "isSftpEnabled": True,
        "isLocalUserEnabled": True,
        "defaultToOAuthAuthentication": False,
        "minimumTlsVersion": "TLS1_2",
        "allowSharedKeyAccess": True,
        "networkAcls": {
            "resourceAccessRules": [
                {
                    "tenantId": "72f988bf-86f1-41af-91ab-2d7cd011db47",
                    "resourceId": "/subscriptions/a7e99807-abbf-4642-bdec-2c809a96a8bc/resourceGroups/res9407"
                    "/providers/Microsoft.Synapse/workspaces/testworkspace",
                }
            ],
            "defaultAction": "Allow",
        },
        "routingPreference": {
            "routingChoice": "MicrosoftRouting",
            "publishMicrosoftEndpoints": True,
            "publishInternetEndpoints": True,
        },
        "encryption": {
            "services": {
                "file": {"keyType": "Account", "enabled": True},
                "blob": {"keyType": "Account", "enabled": True},
            },
            "keySource": "Microsoft.Storage",
        },
    }
}

_NETWORK_ACLS = {
    "bypass": None,
    "defaultAction": None,
    "ipRules": None,
    "virtualNetworkRules": None,
    "resourceAccessRules": [{"tenantId": None, "resourceId": None}],
}

# stable/2023-05-01/examples/StorageAccountUpdate.json, response 200 (a Standard_GRS account).
STORAGE_UPDATE_KEYS: dict[str, Any] = {
    **_ACCOUNT_TOP,
    "tags": {"key1": None, "key2": None},
    "properties": {
        "keyPolicy": {"keyExpirationPeriodInDays": None},
        "sasPolicy": {"sasExpirationPeriod": None, "expirationAction": None},
        "keyCreationTime": {"key1": None, "key2": None},
        "isHnsEnabled": None,
        "allowBlobPublicAccess": None,
        "isSftpEnabled": None,
        "isLocalUserEnabled": None,
        "minimumTlsVersion": None,
        "allowSharedKeyAccess": None,
        "creationTime": None,
        "networkAcls": _NETWORK_ACLS,
        "primaryEndpoints": _PRIMARY_ENDPOINTS,
        "primaryLocation": None,
        "provisioningState": None,
        "routingPreference": _ROUTING,
        "encryption": {"services": {"file": _ENCRYPTED, "blob": _ENCRYPTED}, "keySource": None},
        "secondaryLocation": None,
        "statusOfPrimary": None,
        "statusOfSecondary": None,
        "supportsHttpsTrafficOnly": None,
    },
}

# Storage/examples/2025-08-01/StorageAccountGetPropertiesGeoReplicationStatscanFailoverFalse.json:
# GET ...?$expand=geoReplicationStats, response 200.
STORAGE_GET_EXPANDED_KEYS: dict[str, Any] = {
    **_ACCOUNT_TOP,
    "tags": {"key1": None, "key2": None},
    "properties": {
        "accountMigrationInProgress": None,
        "creationTime": None,
        "encryption": {"keySource": None, "services": {"blob": _ENCRYPTED, "file": _ENCRYPTED}},
        "geoReplicationStats": {
            "canFailover": None,
            "canPlannedFailover": None,
            "lastSyncTime": None,
            "postFailoverRedundancy": None,
            "postPlannedFailoverRedundancy": None,
            "status": None,
        },
        "isHnsEnabled": None,
        "isSkuConversionBlocked": None,
        "keyCreationTime": {"key1": None, "key2": None},
        "networkAcls": _NETWORK_ACLS,
        "primaryEndpoints": _PRIMARY_ENDPOINTS,
        "primaryLocation": None,
        "provisioningState": None,
        "routingPreference": _ROUTING,
        "secondaryLocation": None,
        "statusOfPrimary": None,
        "statusOfSecondary": None,
        "supportsHttpsTrafficOnly": None,
    },
}

# No spec example has an RA-GRS account; Microsoft Learn's "Write Azure CLI commands for both Bash and
# PowerShell" shows `az storage account create --sku Standard_RAGRS --location eastus`: its
# secondaryEndpoints are blob, dfs, queue, table and web (file is null), secondaryLocation westus.
RA_GRS_SECONDARY_ENDPOINT_KEYS: dict[str, Any] = {
    "blob": None,
    "dfs": None,
    "queue": None,
    "table": None,
    "web": None,
}

# Registry/stable/2025-11-01/examples/RegistryCreate.json, request.
REGISTRY_CREATE_REQUEST: dict[str, Any] = {
    "location": "westus",
    "tags": {"key": "value"},
    "sku": {"name": "Standard"},
    "properties": {"adminUserEnabled": True},
}

# Registry/stable/2025-11-01/examples/RegistryGet.json, response 200 (RegistryCreate.json's 200 and 201
# bodies have the same keys). The example's registry is Standard yet shows networkRuleSet; real Basic
# and Standard registries answer it null (`az acr create` outputs on Microsoft Learn), network rules
# being a Premium feature, so the tests expect it on Premium registries only.
REGISTRY_GET_KEYS: dict[str, Any] = {
    "id": None,
    "name": None,
    "type": None,
    "location": None,
    "tags": {"key": None},
    "sku": {"name": None, "tier": None},
    "properties": {
        "loginServer": None,
        "creationDate": None,
        "provisioningState": None,
        "adminUserEnabled": None,
        "networkRuleSet": {"defaultAction": None, "ipRules": None},
        "policies": {
            "quarantinePolicy": {"status": None},
            "trustPolicy": {"type": None, "status": None},
            "retentionPolicy": {"days": None, "lastUpdatedTime": None, "status": None},
            "exportPolicy": {"status": None},
            "azureADAuthenticationAsArmPolicy": {"status": None},
        },
        "encryption": {"status": None},
        "status": None,
        "dataEndpointEnabled": None,
        "dataEndpointHostNames": None,
        "privateEndpointConnections": None,
        "publicNetworkAccess": None,
        "networkRuleBypassOptions": None,
        "networkRuleBypassAllowedForTasks": None,
        "zoneRedundancy": None,
        "anonymousPullEnabled": None,
        "roleAssignmentMode": None,
    },
}

#: The keys of REGISTRY_GET_KEYS that only Premium registries have.
PREMIUM_ONLY_REGISTRY_KEYS = frozenset({"properties.networkRuleSet"})

# Registry/stable/2025-11-01/examples/ReplicationCreate.json, request.
REPLICATION_CREATE_REQUEST: dict[str, Any] = {"location": "eastus", "tags": {"key": "value"}}

# Registry/stable/2025-11-01/examples/ReplicationGet.json, response 200 (ReplicationCreate.json's 200
# and 201 bodies have the same keys; the 201 says displayStatus "Provisioning").
REPLICATION_GET_KEYS: dict[str, Any] = {
    "id": None,
    "name": None,
    "type": None,
    "location": None,
    "tags": {"key": None},
    "properties": {
        "provisioningState": None,
        "status": {"displayStatus": None, "message": None, "timestamp": None},
        "regionEndpointEnabled": None,
        "zoneRedundancy": None,
    },
}

# resources/resource-manager/Microsoft.Resources/stable/2025-04-01/examples/CreateResourceGroup.json.
RESOURCE_GROUP_CREATE_REQUEST: dict[str, Any] = {"location": "eastus"}
RESOURCE_GROUP_KEYS: dict[str, Any] = {
    "id": None,
    "name": None,
    "location": None,
    "properties": {"provisioningState": None},
}

# authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/examples/
# RoleAssignments_CreateForResource.json (request; the role definition id is rebased on the
# simulator's subscription) and RoleAssignments_Get.json (response 200).
ROLE_DEFINITION_GUID = "0b5fe924-9a61-425c-96af-cfe6e287ca2d"
ROLE_ASSIGNMENT_PRINCIPAL = "ce2ce14e-85d7-4629-bdbc-454d0519d987"
ROLE_ASSIGNMENT_KEYS: dict[str, Any] = {
    "properties": {"roleDefinitionId": None, "principalId": None, "principalType": None, "scope": None},
    "id": None,
    "type": None,
    "name": None,
}


def key_paths(obj: object, prefix: str = "") -> set[str]:
    """Every key path of a JSON value: ``a.b`` for objects, ``a[].b`` for the items of a list."""
    paths: set[str] = set()
    if isinstance(obj, dict):
        for key, value in obj.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            paths.add(path)
            paths |= key_paths(value, path)
    elif isinstance(obj, list):
        for item in obj:
            paths |= key_paths(item, f"{prefix}[]")
    return paths


def missing_keys(documented: dict[str, Any], actual: object, *, exclude: frozenset[str] = frozenset()) -> list[str]:
    """The documented key paths that ``actual`` lacks (sorted), skipping ``exclude`` and what lies below."""
    have = key_paths(actual)
    wanted = {p for p in key_paths(documented) if not any(p == e or p.startswith(e + ".") for e in exclude)}
    return sorted(wanted - have)
