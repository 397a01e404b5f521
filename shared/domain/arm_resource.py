"""regctl's records as ARM resources of ``Microsoft.MachineLearningServices/registries`` (pure).

``registry_resource`` is what GET, list and the PUT's answer carry: the shape azure-ai-ml's
``Registry._from_rest_object`` parses (shared/reference/azure-ai-ml-client.md section 2.6). Every
system-created account carries its ``armResourceId``: the account observed in ARM, or, before it exists,
the name regctl's naming gives it (the SDK cannot read a region of two accounts without their ids).
``operation_status`` is the status resource an ``Azure-AsyncOperation`` URL answers (ARM RPC's shape).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from shared.domain.arm_registry import RESOURCE_TYPE
from shared.domain.naming import container_registry_name, resource_group_name, storage_account_name
from shared.domain.records import OperationRecord, OperationStatus, RegistryRecord, RegistryStatus

PROVIDER = "Microsoft.MachineLearningServices"
DEFAULT_RESOURCE_GROUP = "regctl"
"""The resource group of registries created through ``/api`` unless ``REGCTL_DEFAULT_RESOURCE_GROUP`` says."""
STATUS_SEGMENT = "registryOperationsStatus"
RESULT_SEGMENT = "registryOperationResults"
_IDENTITY_NAMESPACE = uuid.UUID("6f0c2a4e-3b8e-4f61-9d0a-7a3c1b2e5d90")


@dataclass(frozen=True)
class ArmSite:
    """What the ARM surface names: the one subscription it serves (regctl's), the group of registries no
    ARM path placed, the prefix of managed groups, and the tenant of the identities it reports."""

    subscription_id: str
    default_group: str
    group_prefix: str
    tenant_id: str | None = None

    def at(self, root: str) -> ArmScope:
        return ArmScope(root.rstrip("/"), self)


@dataclass(frozen=True)
class ArmScope:
    """The site as one request sees it: ``root`` is the absolute URL that clients use as ``resource_manager``
    (no trailing slash), so every link regctl gives is absolute (azure-ai-ml 1.35 needs that)."""

    root: str
    site: ArmSite

    @property
    def subscription_id(self) -> str:
        return self.site.subscription_id

    def url(self, path: str) -> str:
        return self.root + path


def registry_path(subscription_id: str, group: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}/providers/{PROVIDER}/registries/{name}"


def operation_path(subscription_id: str, location: str, segment: str, operation_id: str) -> str:
    return f"/subscriptions/{subscription_id}/providers/{PROVIDER}/locations/{location}/{segment}/{operation_id}"


def group_of(record: RegistryRecord, scope: ArmScope) -> str:
    """The resource group a registry was placed in (through ARM), else the configured default group."""
    return record.resource_group or scope.site.default_group


def provisioning_state(record: RegistryRecord) -> str:
    if record.deleting or record.status is RegistryStatus.DELETING:
        return "Deleting"
    if record.status is RegistryStatus.READY:
        return "Succeeded"
    if record.status is RegistryStatus.FAILED:
        return "Failed"
    return "Creating" if record.observed_generation == 0 else "Updating"


def _stamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def registry_resource(record: RegistryRecord, scope: ArmScope) -> dict[str, Any]:
    spec = record.spec
    sub, name = scope.subscription_id, record.name
    managed = _managed_group(record, scope)
    managed_id = f"/subscriptions/{sub}/resourceGroups/{managed}"
    acr_name = _acr_name(record)
    acr = {
        "systemCreatedAcrAccount": {
            "acrAccountSku": "Premium",
            "acrAccountName": acr_name,
            "armResourceId": {
                "resourceId": f"{managed_id}/providers/Microsoft.ContainerRegistry/registries/{acr_name}"
            },
        }
    }
    accounts = _storage_names(record)
    regions = []
    for entry in spec["replication_locations"]:
        region = str(entry["location"])
        storage = entry.get("storage_config") or {}
        details = []
        for index in range(int(storage.get("replication_count", 1))):
            account = accounts.get((region, index)) or storage_account_name(record.key, region, index)
            details.append(
                {
                    "systemCreatedStorageAccount": {
                        "storageAccountType": str(storage.get("storage_account_type", "Standard_LRS")),
                        "storageAccountHnsEnabled": bool(storage.get("storage_account_hns", False)),
                        "storageAccountName": account,
                        "allowBlobPublicAccess": False,
                        "armResourceId": {
                            "resourceId": f"{managed_id}/providers/Microsoft.Storage/storageAccounts/{account}"
                        },
                    }
                }
            )
        regions.append({"location": region, "storageAccountDetails": details, "acrDetails": [acr]})
    group = group_of(record, scope)
    resource_id = registry_path(sub, group, name)
    identity: dict[str, Any] = {
        "type": "SystemAssigned",
        "principalId": str(uuid.uuid5(_IDENTITY_NAMESPACE, record.key)),
    }
    if scope.site.tenant_id:
        identity["tenantId"] = scope.site.tenant_id
    tags = dict(spec.get("tags") or {})
    ip = spec.get("intellectual_property") or {}
    return {
        "id": resource_id,
        "name": name,
        "type": RESOURCE_TYPE,
        "location": spec["location"],
        "tags": tags,
        "identity": identity,
        "systemData": {"createdAt": _stamp(record.created_at), "lastModifiedAt": _stamp(record.updated_at)},
        "properties": {
            "provisioningState": provisioning_state(record),
            "publicNetworkAccess": spec.get("public_network_access", "Enabled"),
            "intellectualPropertyPublisher": ip.get("publisher"),
            "discoveryUrl": scope.url(f"/registrymanagement/v1.0/registries/{name}/discovery"),
            "mlFlowRegistryUri": f"azureml://{spec['location']}.api.azureml.ms/mlflow/v1.0{resource_id}",
            "managedResourceGroup": {"resourceId": managed_id},
            "managedResourceGroupTags": tags,
            "privateLinkCount": 0,
            "regionDetails": regions,
        },
    }


def _managed_group(record: RegistryRecord, scope: ArmScope) -> str:
    found = record.resources.get("resource_group")
    if isinstance(found, dict) and found.get("name"):
        return str(found["name"])
    return resource_group_name(record.key, scope.site.group_prefix)


def _acr_name(record: RegistryRecord) -> str:
    found = record.resources.get("container_registry")
    if isinstance(found, dict) and found.get("name"):
        return str(found["name"])
    return container_registry_name(record.key)


def _storage_names(record: RegistryRecord) -> dict[tuple[str, int], str]:
    found = record.resources.get("storage_accounts")
    names: dict[tuple[str, int], str] = {}
    for account in found if isinstance(found, list) else []:
        if isinstance(account, dict) and account.get("name"):
            names[(str(account.get("region")), int(account.get("index", 0)))] = str(account["name"])
    return names


_ARM_STATUS = {
    OperationStatus.ACCEPTED: "InProgress",
    OperationStatus.RUNNING: "InProgress",
    OperationStatus.SUCCEEDED: "Succeeded",
    OperationStatus.FAILED: "Failed",
    OperationStatus.CANCELED: "Canceled",
}


def arm_status(operation: OperationRecord) -> str:
    return _ARM_STATUS[operation.status]


def operation_status(operation: OperationRecord, path: str) -> dict[str, Any]:
    """The ``Azure-AsyncOperation`` status resource of ``operation`` (``path`` is its own id)."""
    status: dict[str, Any] = {
        "id": path,
        "name": operation.id,
        "status": arm_status(operation),
        "startTime": _stamp(operation.created_at),
    }
    if operation.status.terminal:
        status["endTime"] = _stamp(operation.updated_at)
    if operation.status in (OperationStatus.FAILED, OperationStatus.CANCELED):
        status["error"] = operation_error(operation)
    return status


def operation_error(operation: OperationRecord) -> dict[str, str]:
    if operation.status is OperationStatus.CANCELED:
        default = ("OperationCanceled", "the operation was canceled")
    else:
        default = ("OperationFailed", "the operation failed")
    return {"code": operation.error_code or default[0], "message": operation.error_message or default[1]}
