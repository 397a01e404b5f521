"""Data-plane role assignments as ARM lists them, in domain terms (the ARM gateway's reads and writes of
``Microsoft.Authorization/roleAssignments``, api 2022-04-01).

Only the four data-plane roles regctl assigns (``shared/domain/kinds/dataplane.py``), made directly on a
storage account or a container registry, are kept; whose they are (regctl's deterministic name or someone's
hand-made one) is the kind's business. ARM ids and scopes compare case-insensitively.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.domain.kinds.dataplane import ROLES as DATA_PLANE_ROLES
from shared.domain.resources import ObservedRoleAssignment
from shared.domain.roles import role_definition_guid
from shared.domain.work import ResourceRef

_RESOURCE_TYPES = frozenset({"microsoft.storage/storageaccounts", "microsoft.containerregistry/registries"})
_ASSIGNMENT_SEGMENT = "/providers/microsoft.authorization/roleassignments/"


def scope_key(scope: str) -> str:
    """An ARM id or scope as compared: ARM ids are case-insensitive."""
    return scope.strip().rstrip("/").lower()


def group_scope(subscription_id: str, group: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{group}"


def assignment_scope(subscription_id: str, ref: ResourceRef) -> str:
    """The ARM scope of a role assignment: its resource (``ref.parent``) in its group (``ref.group``)."""
    return f"{group_scope(subscription_id, ref.group)}/{ref.parent}"


def role_definition_arm_id(subscription_id: str, role: str) -> str:
    """A role given by its GUID as the subscription's role definition id (what a PUT sends); an id as is."""
    if "/" in role:
        return role
    return f"/subscriptions/{subscription_id}/providers/Microsoft.Authorization/roleDefinitions/{role}"


def data_plane_assignment(listed: Any) -> ObservedRoleAssignment | None:
    """A listed role assignment (an SDK model) of a data-plane role made directly on a storage account or
    a container registry (``/subscriptions/s/resourceGroups/g/providers/{type}/{name}``), else None."""
    role = role_definition_guid(listed.role_definition_id or "")
    if role not in DATA_PLANE_ROLES:
        return None
    assignment_id = listed.id or ""
    at = assignment_id.lower().rfind(_ASSIGNMENT_SEGMENT)
    scope = listed.scope or (assignment_id[:at] if at > 0 else "")
    parts = [p.lower() for p in scope.strip("/").split("/")]
    if len(parts) != 8 or (parts[0], parts[2], parts[4]) != ("subscriptions", "resourcegroups", "providers"):
        return None
    if f"{parts[5]}/{parts[6]}" not in _RESOURCE_TYPES:
        return None
    return ObservedRoleAssignment(
        name=listed.name or "",
        scope=scope,
        principal_id=(listed.principal_id or "").lower(),
        role_definition_id=role,
    )


def in_group(listed: Iterable[Any], group_id: str, own: set[str] | None) -> tuple[ObservedRoleAssignment, ...]:
    """The data-plane assignments of a group's LIST (which also holds those above the group) on resources in
    that group; only on the resources of ``own`` (their scope keys) when the registry's resources were read."""
    prefix = scope_key(group_id) + "/"
    found = []
    for assignment in filter(None, map(data_plane_assignment, listed)):
        key = scope_key(assignment.scope)
        if key.startswith(prefix) and (own is None or key in own):
            found.append(assignment)
    return tuple(found)


def by_owner(listed: Iterable[Any], owner: Mapping[str, str]) -> dict[str, list[ObservedRoleAssignment]]:
    """The data-plane assignments of a subscription-wide LIST by the registry that owns their resource
    (``owner``: a resource's scope key -> registry key); those on no registry's resource are dropped."""
    found: dict[str, list[ObservedRoleAssignment]] = {}
    for assignment in filter(None, map(data_plane_assignment, listed)):
        key = owner.get(scope_key(assignment.scope))
        if key is not None:
            found.setdefault(key, []).append(assignment)
    return found
