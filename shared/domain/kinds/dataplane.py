"""Data-plane role assignments: a principal's grant on a registry reaches every storage account and the ACR.

Each ``Grant`` (the access service's: a principal whose role on the registry, or at ``/``, permits
``registries/assets/read`` or ``.../write``) brings a storage role (Storage Blob Data Reader or Contributor)
on every storage account and an ACR role (AcrPull or AcrPush) on the ACR. regctl keeps them through ARM,
level-triggered like every other kind: a new grant, a new region's storage account, an assignment removed
by hand are all "missing"; a revoked grant is "not in spec".

Subjects. One per (principal, resource, role): ``Subject(region, index, item="principal/{oid}",
target="{resource}-{role}")``, e.g. ``principal/4f…:storage-reader:westus:0`` or
``principal/4f…:acr-push:eastus:0``. The item puts every step in the principal's lane, so the access
service's per-principal operations run them beside the registry lane and beside other principals.

The role is part of the target, not of the desired value, because an assignment's role cannot change in
ARM (a role assignment is immutable: another role is another assignment, under another deterministic
name). An upgrade from reader to contributor is then two independent steps the generic planner already
knows: ``ensure`` of the new subject (``storage-contributor``: missing) and ``delete`` of the old one
(``storage-reader``: not in spec); a revoke is only deletes. With the role in the value, the same subject
would need an update that creates one assignment and deletes another, two writes in one step.

Names are deterministic (``data_plane_assignment_name``: a uuid5 of the resource's ARM id, the principal
and the role), so a PUT retried or redelivered hits the same assignment, and ``actual`` recognises
regctl's own assignments by name: someone's hand-made assignment is never deleted. One exception makes
``RoleAssignmentExists`` (ARM's answer when the same principal, role and scope already exist under another
name, which the adapter counts as done) converge: a hand-made assignment of exactly what a grant wants
stands in for regctl's while the grant lasts, so the loop does not create it again and again; when the
grant goes it is not reported (regctl did not make it, so regctl leaves it).

What is desired follows what exists: an assignment is wanted only on a storage account or ACR that ARM
shows (with its ARM id). The storage and ACR kinds make those; the next reconcile of the principal's lane
adds the assignment. One on a resource still provisioning waits for it. Deleting the registry needs no
step of this kind: its assignments go with the resource group (ARM removes a resource's role assignments
with it), so ``actual`` reports none while tearing down.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.access import (
    ACR_PULL,
    ACR_PUSH,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    STORAGE_BLOB_DATA_READER,
    data_plane_assignment_name,
)
from shared.domain.kinds.base import KindBase
from shared.domain.resources import SUCCEEDED, Part
from shared.domain.roles import role_definition_guid
from shared.domain.work import (
    PRINCIPAL_LANE,
    Action,
    Context,
    Difference,
    ResourceRef,
    ResourceType,
    Subject,
    Verb,
)

STORAGE = "storage"
ACR = "acr"

ROLES: dict[str, tuple[str, str]] = {
    STORAGE_BLOB_DATA_READER: (STORAGE, "reader"),
    STORAGE_BLOB_DATA_CONTRIBUTOR: (STORAGE, "contributor"),
    ACR_PULL: (ACR, "pull"),
    ACR_PUSH: (ACR, "push"),
}
"""The four data-plane roles regctl assigns (role definition GUID -> the resource it goes on, and its
word in the subject's target). Assignments of any other role are never regctl's."""

_PROVIDER_PATHS = {
    STORAGE: "providers/Microsoft.Storage/storageAccounts/",
    ACR: "providers/Microsoft.ContainerRegistry/registries/",
}


@dataclass(frozen=True)
class Resource:
    """A storage account or the ACR: where data-plane assignments go."""

    type: str  # STORAGE or ACR
    region: str
    index: int
    name: str
    scope: str  # its ARM id
    state: str

    @property
    def parent(self) -> str:
        """Its scope below the resource group (``providers/Microsoft.Storage/storageAccounts/{name}``)."""
        return _PROVIDER_PATHS[self.type] + self.name


@dataclass(frozen=True)
class WantAccess:
    """One role assignment a grant asks for."""

    principal_id: str
    principal_type: str
    role: str  # the role definition GUID
    resource: Resource


@dataclass(frozen=True)
class HeldAccess:
    """One data-plane role assignment ARM shows; ``owned`` when its name is regctl's deterministic one."""

    name: str
    state: str
    principal_id: str
    role: str
    resource: Resource
    owned: bool


def subject_of(resource: Resource, principal_id: str, role: str) -> Subject:
    """The subject of ``principal_id``'s assignment of ``role`` (a GUID of ``ROLES``) on ``resource``."""
    target = f"{resource.type}-{ROLES[role][1]}"
    return Subject(resource.region, resource.index, f"{PRINCIPAL_LANE}{principal_id.lower()}", target)


def _scope_key(scope: str) -> str:
    """ARM ids compare case-insensitively."""
    return scope.strip().rstrip("/").lower()


class DataPlaneKind(KindBase):
    name = "dataplane"
    noun = "role assignment"
    reads = frozenset({Part.ROLE_ASSIGNMENTS, Part.STORAGE, Part.ACR})

    @staticmethod
    def _resources(ctx: Context) -> list[Resource]:
        """The storage accounts and the ACR ARM shows, with their ARM ids (one without cannot be named)."""
        found = [Resource(STORAGE, a.region, a.index, a.name, a.id, a.state) for a in ctx.observed.storage if a.id]
        acr = ctx.observed.acr
        if acr is not None and acr.id:
            region = ctx.spec.location if ctx.spec is not None else acr.location
            found.append(Resource(ACR, region, 0, acr.name, acr.id, acr.state))
        return found

    def desired(self, ctx: Context) -> Mapping[Subject, WantAccess]:
        resources = self._resources(ctx)
        wants: dict[Subject, WantAccess] = {}
        for grant in ctx.grants:
            for role in {role_definition_guid(grant.storage_role), role_definition_guid(grant.acr_role)}:
                if role not in ROLES:
                    continue
                for resource in resources:
                    if resource.type == ROLES[role][0]:
                        want = WantAccess(grant.principal_id, grant.principal_type, role, resource)
                        wants[subject_of(resource, grant.principal_id, role)] = want
        return wants

    def actual(self, ctx: Context) -> Mapping[Subject, HeldAccess]:
        if ctx.spec is None:
            return {}  # tearing down: the assignments go with the resource group
        resources = {_scope_key(r.scope): r for r in self._resources(ctx)}
        wanted = self.desired(ctx)
        owned: dict[Subject, HeldAccess] = {}
        standing_in: dict[Subject, HeldAccess] = {}
        for assignment in ctx.observed.role_assignments:
            role = role_definition_guid(assignment.role_definition_id)
            if role not in ROLES:
                continue
            resource = resources.get(_scope_key(assignment.scope))
            if resource is None or resource.type != ROLES[role][0]:
                continue
            mine = assignment.name.lower() == data_plane_assignment_name(resource.scope, assignment.principal_id, role)
            held = HeldAccess(assignment.name, assignment.state, assignment.principal_id, role, resource, mine)
            subject = subject_of(resource, assignment.principal_id, role)
            if mine:
                owned[subject] = held
            elif subject in wanted:
                standing_in.setdefault(subject, held)
        return {**standing_in, **owned}

    def needs(self, want: WantAccess, have: HeldAccess) -> list[Difference]:
        # The subject fixes the principal, the role and the resource: an assignment found under it is the one
        # wanted. (ARM does not report the principal type back in a way worth comparing.)
        return []

    def create(self, subject: Subject, want: WantAccess, have: HeldAccess | None, ctx: Context) -> Action:
        resource = want.resource
        if resource.state != SUCCEEDED:
            return Action(Verb.WAIT, why=f"{resource.type} {resource.name} {resource.state}")
        name = data_plane_assignment_name(resource.scope, want.principal_id, want.role)
        body = {
            "properties": {
                "roleDefinitionId": want.role,  # the adapter makes it the subscription's role definition id
                "principalId": want.principal_id,
                "principalType": want.principal_type,
            }
        }
        return Action(Verb.CREATE, ResourceRef(ResourceType.ROLE_ASSIGNMENT, ctx.group, name, resource.parent), body)

    def delete(self, have: HeldAccess, ctx: Context) -> Action:
        if not have.owned:
            return Action(Verb.NOOP, why=f"{self.noun} {have.name} is not regctl's")
        held = self.actual(ctx)
        for subject, want in self.desired(ctx).items():
            same_place = want.principal_id.lower() == have.principal_id.lower() and _scope_key(
                want.resource.scope
            ) == _scope_key(have.resource.scope)
            if same_place and subject not in held:
                # an upgrade or downgrade: keep the old role until the new one is there, so the principal
                # never loses access in between
                return Action(Verb.WAIT, why=f"the principal's new role on {want.resource.name} is not there yet")
        ref = ResourceRef(ResourceType.ROLE_ASSIGNMENT, ctx.group, have.name, have.resource.parent)
        return Action(Verb.DELETE, ref)

    def label(self, subject: Subject) -> str:
        principal = subject.item.removeprefix(PRINCIPAL_LANE)
        resource, _, role = subject.target.partition("-")
        where = "container registry" if resource == ACR else f"storage {subject.region}[{subject.index}]"
        return f"access {principal} {role} on {where}"


KIND = DataPlaneKind()
