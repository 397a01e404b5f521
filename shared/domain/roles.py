"""Role definitions and Azure RBAC's action matching (pure).

regctl decides access the way Azure RBAC does (DESIGN.md section 7): a role definition lists ``actions``
and ``notActions`` (patterns of Azure action strings); an assignment gives a role to a principal at a
scope (``shared/domain/access.py``). The rules, as Azure applies them:

- An action string is ``{provider}/{resource type}[/{sub type}...]/{verb}``, e.g.
  ``Microsoft.MachineLearningServices/registries/assets/write``. Patterns may use ``*`` anywhere, and a
  ``*`` matches any run of characters, slashes included: ``*`` is everything, ``*/read`` is every action
  ending in ``/read``, ``Microsoft.MachineLearningServices/registries/assets/*`` is every asset action,
  ``Microsoft.Authorization/*/Write`` is every Authorization write. Matching is case-insensitive.
- A role permits an action when some ``actions`` pattern matches it and no ``notActions`` pattern does.
  ``notActions`` only subtract from the same role: it is not a deny, and another role assigned to the same
  principal that grants the action still grants it.

Patterns are compiled once (``functools.lru_cache``) into regular expressions whose inner wildcards are
atomic groups, so a pattern with many ``*`` (custom roles are user input) matches in linear time instead
of backtracking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache


class Action(StrEnum):
    """The actions regctl checks, spelled exactly as Azure spells them."""

    REGISTRIES_READ = "Microsoft.MachineLearningServices/registries/read"
    REGISTRIES_WRITE = "Microsoft.MachineLearningServices/registries/write"
    REGISTRIES_DELETE = "Microsoft.MachineLearningServices/registries/delete"
    ASSETS_READ = "Microsoft.MachineLearningServices/registries/assets/read"
    ASSETS_WRITE = "Microsoft.MachineLearningServices/registries/assets/write"
    ASSETS_DELETE = "Microsoft.MachineLearningServices/registries/assets/delete"
    ROLE_ASSIGNMENTS_READ = "Microsoft.Authorization/roleAssignments/read"
    ROLE_ASSIGNMENTS_WRITE = "Microsoft.Authorization/roleAssignments/write"
    ROLE_ASSIGNMENTS_DELETE = "Microsoft.Authorization/roleAssignments/delete"
    ROLE_DEFINITIONS_READ = "Microsoft.Authorization/roleDefinitions/read"
    ROLE_DEFINITIONS_WRITE = "Microsoft.Authorization/roleDefinitions/write"
    ROLE_DEFINITIONS_DELETE = "Microsoft.Authorization/roleDefinitions/delete"


ACTION_GRAMMAR = re.compile(r"[A-Za-z0-9.*]+(?:/[A-Za-z0-9.*]+)*\Z")
"""An action or pattern: segments of letters, digits, dots and ``*``, separated by single slashes."""

MAX_ROLE_NAME = 512
MAX_DESCRIPTION = 2048
MAX_PATTERN = 256
"""regctl's own bounds on a custom role's text (generous: a real action string is under 100 characters)."""


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern[str]:
    pieces = pattern.split("*")
    if len(pieces) == 1:
        return re.compile(re.escape(pattern) + r"\Z", re.IGNORECASE)
    first, *middle, last = pieces
    # Each inner piece commits to its leftmost occurrence (an atomic group): that is always a correct choice
    # for '*'-only globs, and it keeps matching linear however many '*' a pattern has.
    inner = "".join(f"(?>.*?{re.escape(piece)})" for piece in middle if piece)
    return re.compile(f"{re.escape(first)}{inner}.*{re.escape(last)}\\Z", re.IGNORECASE | re.DOTALL)


def action_matches(pattern: str, action: str) -> bool:
    """Whether the action pattern ``pattern`` (Azure's wildcard rules, case-insensitive) matches ``action``."""
    return _compiled(pattern).match(action) is not None


@dataclass(frozen=True)
class RoleDefinition:
    """A role: what it permits (``actions`` minus ``not_actions``) and where it may be assigned.

    ``id`` is the role definition's GUID (lowercase), the last segment of its ARM id
    ``/providers/Microsoft.Authorization/roleDefinitions/{id}``."""

    id: str
    role_name: str
    description: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...] = ()
    assignable_scopes: tuple[str, ...] = ("/",)
    built_in: bool = False

    def permits(self, action: str) -> bool:
        """Azure's rule: some ``actions`` pattern matches and no ``not_actions`` pattern does."""
        return any(action_matches(p, action) for p in self.actions) and not any(
            action_matches(p, action) for p in self.not_actions
        )

    @property
    def arm_id(self) -> str:
        return role_definition_arm_id(self.id)

    @property
    def role_type(self) -> str:
        """``BuiltInRole`` or ``CustomRole``, as ARM's ``properties.type`` says."""
        return "BuiltInRole" if self.built_in else "CustomRole"


def role_definition_arm_id(role_id: str) -> str:
    """The tenant-level ARM id of a role definition: ``/providers/Microsoft.Authorization/roleDefinitions/{id}``."""
    return f"/providers/Microsoft.Authorization/roleDefinitions/{role_definition_guid(role_id)}"


def role_definition_guid(role_definition_id: str) -> str:
    """The GUID of a role definition given as a GUID or as any ARM id ending in ``roleDefinitions/{guid}``
    (tenant-level, or under ``/subscriptions/{id}``), lowercased."""
    return role_definition_id.rstrip("/").rsplit("/", 1)[-1].lower()


READER = RoleDefinition(
    id="acdd72a7-3385-48ef-bd42-f606fba81ae7",
    role_name="Reader",
    description="View all resources, but does not allow you to make any changes.",
    actions=("*/read",),
    built_in=True,
)
CONTRIBUTOR = RoleDefinition(
    id="b24988ac-6180-42a0-ab88-20f7382dd24c",
    role_name="Contributor",
    description="Grants full access to manage all resources, but does not allow you to assign roles in Azure "
    "RBAC, manage assignments in Azure Blueprints, or share image galleries.",
    actions=("*",),
    # Azure's published definition, verbatim. The tracker issue summarised it as "minus
    # Microsoft.Authorization/*/Write, */Delete and elevateAccess/Action"; the Delete exclusion is
    # Microsoft.Authorization/*/Delete, so a Contributor may delete registries and assets but not role
    # assignments or definitions. The entries outside Microsoft.Authorization never match a regctl action.
    not_actions=(
        "Microsoft.Authorization/*/Delete",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action",
        "Microsoft.Blueprint/blueprintAssignments/write",
        "Microsoft.Blueprint/blueprintAssignments/delete",
        "Microsoft.Compute/galleries/share/action",
        "Microsoft.Purview/consents/write",
        "Microsoft.Purview/consents/delete",
        "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
    ),
    built_in=True,
)
OWNER = RoleDefinition(
    id="8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
    role_name="Owner",
    description="Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
    actions=("*",),
    built_in=True,
)
AZUREML_REGISTRY_USER = RoleDefinition(
    id="1823dd4f-9b8c-4ab6-ab4e-7397a3684615",
    role_name="AzureML Registry User",
    description="Can perform all actions on Machine Learning Services Registry assets as well as get Registry "
    "resources.",
    actions=(
        "Microsoft.MachineLearningServices/registries/read",
        "Microsoft.MachineLearningServices/registries/assets/*",
    ),
    built_in=True,
)
BUILT_IN_ROLES: tuple[RoleDefinition, ...] = (READER, CONTRIBUTOR, OWNER, AZUREML_REGISTRY_USER)


def find_role(key: str, custom: Iterable[RoleDefinition] = ()) -> RoleDefinition | None:
    """A built-in or custom role by GUID (or ARM id) or by name, both case-insensitive; built-ins first."""
    guid = role_definition_guid(key)
    name = key.strip().lower()
    for role in (*BUILT_IN_ROLES, *custom):
        if role.id.lower() == guid or role.role_name.lower() == name:
            return role
    return None


def role_catalog(custom: Iterable[RoleDefinition] = ()) -> dict[str, RoleDefinition]:
    """Built-in and custom roles by lowercase GUID (a custom role can never shadow a built-in one)."""
    catalog = {role.id.lower(): role for role in custom}
    catalog.update({role.id: role for role in BUILT_IN_ROLES})
    return catalog
