"""Registry and replication bodies as ACR returns them (api 2025-11-01).

Shapes follow the REST API spec examples ``RegistryGet.json`` / ``RegistryCreate.json`` and
``ReplicationGet.json`` / ``ReplicationCreate.json``: the properties a client sent laid over ACR's
defaults (nested objects such as ``policies`` merged), plus

* ``networkRuleSet`` (``defaultAction``, ``ipRules``) on Premium registries: network rules are a
  Premium feature and ``az acr create`` shows ``networkRuleSet: null`` for Basic and Standard;
* ``policies.retentionPolicy.lastUpdatedTime``: creation, then every PUT/PATCH that changes the policy;
* ``status`` (``displayStatus``, ``message``, ``timestamp``) of registries and replications, from the
  provisioning state: ``Provisioning`` / "The replication is provisioning." while creating, ``Ready`` /
  "The replication is ready." once done (the wording of the replication examples; registries say
  "registry"), ``Deleting``, ``Failed`` with the operation's error. The timestamp is when that status
  began on the simulator's clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sandbox.arm.bodies import deep_merge
from sandbox.arm.config import SANDBOX_CALLER
from sandbox.arm.lro import Operation, iso
from sandbox.arm.routes import REGISTRY_TYPE
from sandbox.arm.state import Registry

DEFAULT_PROPERTIES: dict[str, Any] = {
    "adminUserEnabled": False,
    "dataEndpointEnabled": False,
    "dataEndpointHostNames": [],
    "privateEndpointConnections": [],
    "publicNetworkAccess": "Enabled",
    "networkRuleBypassOptions": "AzureServices",
    "networkRuleBypassAllowedForTasks": False,
    "zoneRedundancy": "Disabled",
    "anonymousPullEnabled": False,
    "roleAssignmentMode": "LegacyRegistryPermissions",
    "encryption": {"status": "disabled"},
    "policies": {
        "quarantinePolicy": {"status": "disabled"},
        "trustPolicy": {"type": "Notary", "status": "disabled"},
        "retentionPolicy": {"days": 7, "status": "disabled"},
        "exportPolicy": {"status": "enabled"},
        "azureADAuthenticationAsArmPolicy": {"status": "enabled"},
    },
}

#: What a Premium registry adds: its network rules (none, everything allowed).
PREMIUM_PROPERTIES: dict[str, Any] = {"networkRuleSet": {"defaultAction": "Allow", "ipRules": []}}

#: provisioningState -> (displayStatus, message template).
_STATUS: dict[str, tuple[str, str]] = {
    "Creating": ("Provisioning", "The {noun} is provisioning."),
    "Updating": ("Provisioning", "The {noun} is provisioning."),
    "Succeeded": ("Ready", "The {noun} is ready."),
    "Deleting": ("Deleting", "The {noun} is being deleted."),
}


def system_data(created: str, by_type: str = "User", by: str = SANDBOX_CALLER) -> dict[str, str]:
    return {
        "createdBy": by,
        "createdByType": by_type,
        "createdAt": created,
        "lastModifiedBy": by,
        "lastModifiedByType": by_type,
        "lastModifiedAt": created,
    }


def resource_status(noun: str, state: str, op: Operation | None, created: datetime) -> dict[str, str]:
    """``properties.status`` of a registry or replication in provisioning state ``state``."""
    if state in ("Failed", "Canceled"):
        message = op.failure.message if op is not None and op.failure is not None else f"The {noun} failed."
        display = "Failed"
    else:
        display, template = _STATUS.get(state, ("Provisioning", "The {noun} is provisioning."))
        message = template.format(noun=noun)
    since = created
    if op is not None:
        since = op.ended_wall if op.done and op.ended_wall is not None else op.started_wall
    return {"displayStatus": display, "message": message, "timestamp": iso(since)}


def effective_properties(reg: Registry) -> dict[str, Any]:
    """The registry's properties as sent, over ACR's defaults (and Premium's network rules)."""
    defaults = deep_merge(DEFAULT_PROPERTIES, PREMIUM_PROPERTIES) if reg.sku == "Premium" else DEFAULT_PROPERTIES
    return deep_merge(defaults, reg.properties)


def retention_policy(reg: Registry) -> dict[str, Any]:
    """The retention policy in effect, without its ``lastUpdatedTime`` (to see whether a write changed it)."""
    policy = effective_properties(reg)["policies"].get("retentionPolicy")
    if not isinstance(policy, dict):
        return {}
    return {k: v for k, v in policy.items() if k != "lastUpdatedTime"}


def registry_body(reg: Registry) -> dict[str, Any]:
    created = iso(reg.created_wall)
    props = effective_properties(reg)
    retention = props["policies"].get("retentionPolicy")
    if isinstance(retention, dict):
        retention["lastUpdatedTime"] = iso(reg.retention_updated_wall)
    props.update(
        {
            "loginServer": f"{reg.name.lower()}.azurecr.io",
            "creationDate": created,
            "provisioningState": reg.state,
            "status": resource_status("registry", reg.state, reg.op, reg.created_wall),
        }
    )
    return {
        "id": reg.id,
        "name": reg.name,
        "type": REGISTRY_TYPE,
        "location": reg.location,
        "tags": dict(reg.tags),
        "sku": {"name": reg.sku, "tier": reg.sku},
        "systemData": system_data(created),
        "properties": props,
    }
