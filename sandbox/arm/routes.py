"""Maps an ARM path onto a route: which handler, its path parameters and its resource type.

Literal segments match case-insensitively (ARM paths are case-insensitive); parameters keep the casing
the client sent. The resource type of a route is what fault rules match on; LRO status monitors that
live under a provider's ``locations`` (or the subscription's ``operationresults``) get the type of the
operation they report on, which the app looks up (``resource_type`` is then ``None`` here).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RouteName(StrEnum):
    RG_LIST = "rg_list"
    RG_ITEM = "rg_item"
    RG_MONITOR = "rg_monitor"
    PROVIDER = "provider"
    PROVIDER_REGISTER = "provider_register"
    STORAGE_CHECK_NAME = "storage_check_name"
    STORAGE_LIST_SUB = "storage_list_sub"
    STORAGE_LIST_RG = "storage_list_rg"
    STORAGE_ITEM = "storage_item"
    STORAGE_LIST_KEYS = "storage_list_keys"
    STORAGE_MONITOR = "storage_monitor"
    ACR_CHECK_NAME = "acr_check_name"
    ACR_LIST_SUB = "acr_list_sub"
    ACR_LIST_RG = "acr_list_rg"
    ACR_ITEM = "acr_item"
    ACR_IMPORT = "acr_import"
    ACR_STATUS = "acr_status"
    ACR_LOCATION_MONITOR = "acr_location_monitor"
    REPL_LIST = "repl_list"
    REPL_ITEM = "repl_item"
    REPL_STATUS = "repl_status"
    EG_TOPIC_LIST = "eg_topic_list"
    EG_TOPIC_LIST_SUB = "eg_topic_list_sub"
    EG_TOPIC_ITEM = "eg_topic_item"
    EG_SUB_LIST = "eg_sub_list"
    EG_SUB_ITEM = "eg_sub_item"
    EG_MONITOR = "eg_monitor"
    RA_LIST = "ra_list"
    RA_ITEM = "ra_item"


RG_TYPE = "Microsoft.Resources/resourceGroups"
STORAGE_TYPE = "Microsoft.Storage/storageAccounts"
REGISTRY_TYPE = "Microsoft.ContainerRegistry/registries"
REPLICATION_TYPE = "Microsoft.ContainerRegistry/registries/replications"
ROLE_ASSIGNMENT_TYPE = "Microsoft.Authorization/roleAssignments"
PROVIDER_TYPE = "Microsoft.Resources/providers"
SYSTEM_TOPIC_TYPE = "Microsoft.EventGrid/systemTopics"
EVENT_SUBSCRIPTION_TYPE = "Microsoft.EventGrid/systemTopics/eventSubscriptions"


@dataclass(frozen=True)
class Route:
    name: RouteName
    params: dict[str, str]
    #: ``None`` for monitors whose type is the type of the operation they report on.
    resource_type: str | None

    @property
    def subscription(self) -> str | None:
        return self.params.get("sub")


_SUB = ("subscriptions", "{sub}")
_RG = (*_SUB, "resourcegroups", "{rg}")
_STORAGE = ("providers", "microsoft.storage")
_ACR = ("providers", "microsoft.containerregistry")
_REG = (*_RG, *_ACR, "registries", "{reg}")
_EG = ("providers", "microsoft.eventgrid")
_TOPIC = (*_RG, *_EG, "systemtopics", "{topic}")

_PATTERNS: list[tuple[tuple[str, ...], RouteName, str | None]] = [
    ((*_SUB, "resourcegroups"), RouteName.RG_LIST, RG_TYPE),
    (_RG, RouteName.RG_ITEM, RG_TYPE),
    ((*_SUB, "operationresults", "{op}"), RouteName.RG_MONITOR, None),
    ((*_SUB, *_STORAGE, "checknameavailability"), RouteName.STORAGE_CHECK_NAME, STORAGE_TYPE),
    ((*_SUB, *_STORAGE, "storageaccounts"), RouteName.STORAGE_LIST_SUB, STORAGE_TYPE),
    ((*_SUB, *_STORAGE, "locations", "{loc}", "asyncoperations", "{op}"), RouteName.STORAGE_MONITOR, None),
    ((*_RG, *_STORAGE, "storageaccounts"), RouteName.STORAGE_LIST_RG, STORAGE_TYPE),
    ((*_RG, *_STORAGE, "storageaccounts", "{name}"), RouteName.STORAGE_ITEM, STORAGE_TYPE),
    ((*_RG, *_STORAGE, "storageaccounts", "{name}", "listkeys"), RouteName.STORAGE_LIST_KEYS, STORAGE_TYPE),
    ((*_SUB, *_ACR, "checknameavailability"), RouteName.ACR_CHECK_NAME, REGISTRY_TYPE),
    ((*_SUB, *_ACR, "registries"), RouteName.ACR_LIST_SUB, REGISTRY_TYPE),
    ((*_SUB, *_ACR, "locations", "{loc}", "operationresults", "{op}"), RouteName.ACR_LOCATION_MONITOR, None),
    ((*_RG, *_ACR, "registries"), RouteName.ACR_LIST_RG, REGISTRY_TYPE),
    (_REG, RouteName.ACR_ITEM, REGISTRY_TYPE),
    ((*_REG, "importimage"), RouteName.ACR_IMPORT, REGISTRY_TYPE),
    ((*_REG, "operationstatuses", "{op}"), RouteName.ACR_STATUS, REGISTRY_TYPE),
    ((*_REG, "replications"), RouteName.REPL_LIST, REPLICATION_TYPE),
    ((*_REG, "replications", "{repl}"), RouteName.REPL_ITEM, REPLICATION_TYPE),
    ((*_REG, "replications", "{repl}", "operationstatuses", "{op}"), RouteName.REPL_STATUS, REPLICATION_TYPE),
    ((*_SUB, *_EG, "systemtopics"), RouteName.EG_TOPIC_LIST_SUB, SYSTEM_TOPIC_TYPE),
    ((*_RG, *_EG, "systemtopics"), RouteName.EG_TOPIC_LIST, SYSTEM_TOPIC_TYPE),
    (_TOPIC, RouteName.EG_TOPIC_ITEM, SYSTEM_TOPIC_TYPE),
    ((*_TOPIC, "eventsubscriptions"), RouteName.EG_SUB_LIST, EVENT_SUBSCRIPTION_TYPE),
    ((*_TOPIC, "eventsubscriptions", "{name}"), RouteName.EG_SUB_ITEM, EVENT_SUBSCRIPTION_TYPE),
    ((*_SUB, *_EG, "locations", "{loc}", "operationsstatus", "{op}"), RouteName.EG_MONITOR, None),
    ((*_SUB, *_EG, "locations", "{loc}", "operationresults", "{op}"), RouteName.EG_MONITOR, None),
    # Generic provider routes last: their ``{ns}`` would also match the literal routes above.
    ((*_SUB, "providers", "{ns}"), RouteName.PROVIDER, PROVIDER_TYPE),
    ((*_SUB, "providers", "{ns}", "register"), RouteName.PROVIDER_REGISTER, PROVIDER_TYPE),
]

_BY_LENGTH: dict[int, list[tuple[tuple[str, ...], RouteName, str | None]]] = {}
for _pattern in _PATTERNS:
    _BY_LENGTH.setdefault(len(_pattern[0]), []).append(_pattern)

_AUTHZ_TAIL = ("providers", "microsoft.authorization", "roleassignments")


def match(segments: list[str]) -> Route | None:
    """The route for ``segments`` (already split and unquoted), or ``None``."""
    lowered = [s.lower() for s in segments]
    authz = _match_role_assignments(segments, lowered)
    if authz is not None:
        return authz
    for pattern, name, resource_type in _BY_LENGTH.get(len(segments), ()):
        params: dict[str, str] = {}
        for part, seg, low in zip(pattern, segments, lowered, strict=True):
            if part.startswith("{"):
                params[part[1:-1]] = seg
            elif part != low:
                break
        else:
            return Route(name, params, resource_type)
    return None


def _match_role_assignments(segments: list[str], lowered: list[str]) -> Route | None:
    """``{scope}/providers/Microsoft.Authorization/roleAssignments[/{name}]`` at any scope."""
    if len(lowered) >= 3 and tuple(lowered[-3:]) == _AUTHZ_TAIL:
        scope_segments = segments[:-3]
        return Route(RouteName.RA_LIST, _scope_params(scope_segments), ROLE_ASSIGNMENT_TYPE)
    if len(lowered) >= 4 and tuple(lowered[-4:-1]) == _AUTHZ_TAIL:
        scope_segments = segments[:-4]
        params = _scope_params(scope_segments)
        params["name"] = segments[-1]
        return Route(RouteName.RA_ITEM, params, ROLE_ASSIGNMENT_TYPE)
    return None


def _scope_params(scope_segments: list[str]) -> dict[str, str]:
    params = {"scope": "/" + "/".join(scope_segments)}
    low = [s.lower() for s in scope_segments]
    if len(low) >= 2 and low[0] == "subscriptions":
        params["sub"] = scope_segments[1]
        if len(low) >= 4 and low[2] == "resourcegroups":
            params["rg"] = scope_segments[3]
    return params
