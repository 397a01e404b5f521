"""Public network access: the spec's ``public_network_access`` on every storage account and on the ACR.

A kind that owns no resource (``lifecycle = False``): the storage and ACR kinds create and delete the
resources; this one reads their ``publicNetworkAccess`` and PATCHes it when it differs, drift included.
ARM reports no value for a resource never set, which Azure treats as ``Enabled``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from shared.domain.kinds.base import KindBase
from shared.domain.resources import Part
from shared.domain.work import Action, Context, Difference, ResourceRef, ResourceType, Subject, Verb

DEFAULT = "Enabled"


@dataclass(frozen=True)
class Access:
    """One resource's network access, as ARM shows it."""

    name: str
    state: str
    type: ResourceType
    value: str


class NetworkAccessKind(KindBase):
    name = "network"
    noun = "network access of"
    reads = frozenset({Part.STORAGE, Part.ACR})
    lifecycle = False

    def desired(self, ctx: Context) -> Mapping[Subject, str]:
        spec = ctx.desired_spec
        wants = {
            Subject(entry.location, index, "", "storage"): spec.public_network_access
            for entry in spec.replication_locations
            for index in range(entry.storage.replication_count)
        }
        wants[Subject(spec.location, 0, "", "acr")] = spec.public_network_access
        return wants

    def actual(self, ctx: Context) -> Mapping[Subject, Access]:
        found = {
            Subject(a.region, a.index, "", "storage"): Access(
                a.name, a.state, ResourceType.STORAGE, str(a.properties.get("publicNetworkAccess") or DEFAULT)
            )
            for a in ctx.observed.storage
        }
        acr = ctx.observed.acr
        if acr is not None:
            region = ctx.spec.location if ctx.spec else acr.location
            value = str(acr.properties.get("publicNetworkAccess") or DEFAULT)
            found[Subject(region, 0, "", "acr")] = Access(acr.name, acr.state, ResourceType.ACR, value)
        return found

    def needs(self, want: str, have: Access) -> list[Difference]:
        return [] if have.value == want else [Difference("public_network_access", want, have.value)]

    def update(self, want: str, have: Access, ctx: Context) -> Action:
        ref = ResourceRef(have.type, ctx.group, have.name)
        return Action(Verb.UPDATE, ref, {"properties": {"publicNetworkAccess": want}})

    def label(self, subject: Subject) -> str:
        if subject.target == "acr":
            return "container registry"
        return f"storage {subject.region}[{subject.index}]"


KIND = NetworkAccessKind()
