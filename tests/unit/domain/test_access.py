"""Identity and access decided as Azure RBAC decides (shared/domain/access.py, shared/domain/roles.py).

The expected values are Azure's: action strings and built-in role definitions as published (Reader
``*/read``; Contributor ``*`` minus ``Microsoft.Authorization/*/Delete``, ``Microsoft.Authorization/*/Write``,
``Microsoft.Authorization/elevateAccess/Action``, ...; Owner ``*``; AzureML Registry User
``registries/read`` + ``registries/assets/*``), wildcard matching that is case-insensitive with ``*``
spanning slashes, notActions that subtract within their own role only, ARM's ``AuthorizationFailed``
wording, and the three personas of the Azure ML registry docs.
"""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.access import (
    ACR_PULL,
    ACR_PUSH,
    ROLE_ASSIGNMENT_NAMESPACE,
    ROOT_SCOPE,
    STORAGE_BLOB_DATA_CONTRIBUTOR,
    STORAGE_BLOB_DATA_READER,
    DataPlaneRoles,
    Principal,
    RegistryFilter,
    RoleAssignment,
    authorize,
    can_read_registry,
    check_assignable,
    data_plane_assignment_name,
    data_plane_roles,
    parse_custom_role,
    parse_scope,
    readable_registries,
    registries_permitting,
    registry_scope,
    scope_covers,
    scope_registry,
)
from shared.domain.errors import Forbidden, InvalidSpec
from shared.domain.roles import (
    AZUREML_REGISTRY_USER,
    BUILT_IN_ROLES,
    CONTRIBUTOR,
    OWNER,
    READER,
    Action,
    RoleDefinition,
    action_matches,
    find_role,
    role_catalog,
    role_definition_arm_id,
    role_definition_guid,
)

ALICE = Principal(id="11111111-1111-1111-1111-111111111111", name="alice@contoso.com", tenant_id="t")
BOB = Principal(id="22222222-2222-2222-2222-222222222222", name="bob@contoso.com")
TEAM = "33333333-3333-3333-3333-333333333333"
CUSTOM_ID = "44444444-4444-4444-4444-444444444444"


def assign(principal_id: str, role: RoleDefinition | str, scope: str = ROOT_SCOPE, n: int = 0) -> RoleAssignment:
    role_id = role.id if isinstance(role, RoleDefinition) else role
    return RoleAssignment(
        id=str(uuid.UUID(int=n)),
        scope=scope,
        principal_id=principal_id,
        principal_type="User",
        role_definition_id=role_id,
    )


# --- action matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("*", Action.REGISTRIES_WRITE, True),
        ("*", Action.ROLE_ASSIGNMENTS_DELETE, True),
        ("*/read", Action.REGISTRIES_READ, True),
        ("*/read", Action.ASSETS_READ, True),
        ("*/read", Action.ROLE_ASSIGNMENTS_READ, True),
        ("*/read", Action.ASSETS_WRITE, False),
        ("*/read", "Microsoft.MachineLearningServices/registries/readers", False),
        ("Microsoft.MachineLearningServices/registries/assets/*", Action.ASSETS_READ, True),
        ("Microsoft.MachineLearningServices/registries/assets/*", Action.ASSETS_WRITE, True),
        ("Microsoft.MachineLearningServices/registries/assets/*", Action.ASSETS_DELETE, True),
        ("Microsoft.MachineLearningServices/registries/assets/*", Action.REGISTRIES_WRITE, False),
        (
            "Microsoft.MachineLearningServices/registries/assets/*",
            "Microsoft.MachineLearningServices/registries/assets",
            False,
        ),
        ("Microsoft.MachineLearningServices/*", Action.REGISTRIES_DELETE, True),
        ("Microsoft.MachineLearningServices/*", Action.ROLE_ASSIGNMENTS_WRITE, False),
        ("Microsoft.Authorization/*/Write", Action.ROLE_ASSIGNMENTS_WRITE, True),
        ("Microsoft.Authorization/*/Write", Action.ROLE_DEFINITIONS_WRITE, True),
        ("Microsoft.Authorization/*/Write", Action.ROLE_ASSIGNMENTS_READ, False),
        ("Microsoft.Authorization/*/Delete", Action.ROLE_ASSIGNMENTS_DELETE, True),
        ("Microsoft.Authorization/*/Delete", Action.REGISTRIES_DELETE, False),
        ("*/Delete", Action.REGISTRIES_DELETE, True),
        # case-insensitive, both ways
        ("microsoft.machinelearningservices/REGISTRIES/read", Action.REGISTRIES_READ, True),
        (
            "Microsoft.MachineLearningServices/registries/read",
            "MICROSOFT.MACHINELEARNINGSERVICES/REGISTRIES/READ",
            True,
        ),
        # exact patterns are whole-string matches, not prefixes or substrings
        (
            "Microsoft.MachineLearningServices/registries/read",
            "Microsoft.MachineLearningServices/registries/read/x",
            False,
        ),
        ("Microsoft.MachineLearningServices/registries", Action.REGISTRIES_READ, False),
        # '*' inside a segment, and more than one '*'
        ("Microsoft.MachineLearningServices/regis*/assets/wr*", Action.ASSETS_WRITE, True),
        ("Microsoft.*/registries/*/read", Action.ASSETS_READ, True),
        ("Microsoft.*/registries/*/read", Action.REGISTRIES_READ, False),
        ("*registries*", Action.ASSETS_DELETE, True),
        # dots are literal, not regex wildcards
        ("MicrosoftXMachineLearningServices/registries/read", Action.REGISTRIES_READ, False),
        ("Microsoft.MachineLearningServicesXregistries/read", Action.REGISTRIES_READ, False),
    ],
)
def test_action_patterns_match_as_azure_matches_them(pattern, action, matches):
    assert action_matches(pattern, action) is matches


@pytest.mark.timeout(60)  # a guard, not a measurement: a backtracking matcher would never end on this
def test_a_pattern_with_many_wildcards_matches_without_backtracking():
    pattern = "*a" * 60 + "*b"  # C(200, 60) ways to place the a's: a backtracking glob tries them all
    action = "a" * 200
    assert not action_matches(pattern, action)
    assert action_matches(pattern, action + "b")


@given(
    st.text(alphabet="ab/*", max_size=8),
    st.text(alphabet="ab/", max_size=10),
)
@settings(max_examples=300, deadline=None)
def test_wildcard_matching_agrees_with_a_reference_glob(pattern, action):
    def reference(p: str, a: str) -> bool:  # plain recursive '*'-glob
        if not p:
            return not a
        if p[0] == "*":
            return any(reference(p[1:], a[i:]) for i in range(len(a) + 1))
        return bool(a) and p[0] == a[0] and reference(p[1:], a[1:])

    assert action_matches(pattern, action) is reference(pattern, action)


# --- built-in roles -------------------------------------------------------------------------------

ALL_ACTIONS = list(Action)


@pytest.mark.parametrize(
    ("role", "permitted"),
    [
        (
            READER,
            {
                Action.REGISTRIES_READ,
                Action.ASSETS_READ,
                Action.ROLE_ASSIGNMENTS_READ,
                Action.ROLE_DEFINITIONS_READ,
            },
        ),
        (
            CONTRIBUTOR,
            {
                Action.REGISTRIES_READ,
                Action.REGISTRIES_WRITE,
                Action.REGISTRIES_DELETE,
                Action.ASSETS_READ,
                Action.ASSETS_WRITE,
                Action.ASSETS_DELETE,
                Action.ROLE_ASSIGNMENTS_READ,
                Action.ROLE_DEFINITIONS_READ,
            },
        ),
        (OWNER, set(ALL_ACTIONS)),
        (
            AZUREML_REGISTRY_USER,
            {Action.REGISTRIES_READ, Action.ASSETS_READ, Action.ASSETS_WRITE, Action.ASSETS_DELETE},
        ),
    ],
    ids=lambda v: v.role_name if isinstance(v, RoleDefinition) else "",
)
def test_built_in_roles_permit_exactly_what_azure_defines(role, permitted):
    assert {a for a in ALL_ACTIONS if role.permits(a)} == permitted
    assert role.built_in and role.role_type == "BuiltInRole"
    assert role.assignable_scopes == ("/",)


def test_built_in_role_ids_are_azures():
    assert {r.role_name: r.id for r in BUILT_IN_ROLES} == {
        "Reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        "Contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "Owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        "AzureML Registry User": "1823dd4f-9b8c-4ab6-ab4e-7397a3684615",
    }


def test_contributor_is_azures_definition_minus_authorization_writes_and_deletes():
    assert CONTRIBUTOR.actions == ("*",)
    assert CONTRIBUTOR.not_actions[:3] == (
        "Microsoft.Authorization/*/Delete",
        "Microsoft.Authorization/*/Write",
        "Microsoft.Authorization/elevateAccess/Action",
    )
    assert not CONTRIBUTOR.permits("Microsoft.Authorization/elevateAccess/Action")
    assert CONTRIBUTOR.permits(Action.REGISTRIES_DELETE)  # only Authorization deletes are excluded


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("Reader", READER),
        ("reader", READER),
        ("AZUREML REGISTRY USER", AZUREML_REGISTRY_USER),
        ("b24988ac-6180-42a0-ab88-20f7382dd24c", CONTRIBUTOR),
        ("B24988AC-6180-42A0-AB88-20F7382DD24C", CONTRIBUTOR),
        ("/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635", OWNER),
        (
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
            OWNER,
        ),
        ("Storage Blob Data Reader", None),
        ("", None),
    ],
)
def test_roles_are_found_by_id_or_name_case_insensitively(key, expected):
    assert find_role(key) == expected


def test_custom_roles_are_found_after_built_ins_and_never_shadow_them():
    custom = RoleDefinition(CUSTOM_ID, "Asset Writer", "", (Action.ASSETS_WRITE,))
    shadow = RoleDefinition(READER.id, "Evil Reader", "", ("*",))
    assert find_role("asset writer", [custom]) == custom
    assert find_role(CUSTOM_ID.upper(), [custom]) == custom
    assert role_catalog([shadow])[READER.id] == READER


def test_role_definition_ids_are_guids_or_arm_ids():
    assert role_definition_guid("/providers/Microsoft.Authorization/roleDefinitions/ABC/") == "abc"
    assert (
        role_definition_arm_id(READER.id.upper()) == f"/providers/Microsoft.Authorization/roleDefinitions/{READER.id}"
    )
    assert READER.arm_id == role_definition_arm_id(READER.id)


# --- notActions -----------------------------------------------------------------------------------


def test_not_actions_subtract_within_their_own_role_only():
    no_delete = RoleDefinition(CUSTOM_ID, "Registry Admin", "", ("Microsoft.MachineLearningServices/*",), ("*/delete",))
    assert no_delete.permits(Action.REGISTRIES_WRITE)
    assert not no_delete.permits(Action.REGISTRIES_DELETE)
    assert not no_delete.permits(Action.ASSETS_DELETE)
    roles = [no_delete]
    only_custom = [assign(ALICE.id, CUSTOM_ID)]
    assert not authorize(ALICE, Action.ASSETS_DELETE, "/registries/r1", only_custom, roles).allowed
    with_user_role = [*only_custom, assign(ALICE.id, AZUREML_REGISTRY_USER, "/registries/r1", 1)]
    decision = authorize(ALICE, Action.ASSETS_DELETE, "/registries/r1", with_user_role, roles)
    assert decision.allowed  # notActions are not a deny: another role still grants it
    assert decision.granted_by == with_user_role[1]


# --- scopes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("/", "/"),
        ("/registries/DemoRegistry1", "/registries/demoregistry1"),
        ("/REGISTRIES/demo_registry-2", "/registries/demo_registry-2"),
    ],
)
def test_valid_scopes_are_normalised_to_lowercase(raw, normalised):
    assert parse_scope(raw) == normalised


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "//",
        "/registries",
        "/registries/",
        "/registries/x",  # names have 2-32 characters
        "/registries/" + "a" * 33,
        "/registries/-bad",
        "/registries/a b",
        "/registries/demo/assets",
        "registries/demo",
        "/subscriptions/00000000-0000-0000-0000-000000000000",
        "/registries/demo\n",
    ],
)
def test_invalid_scopes_are_refused_with_a_field_error(raw):
    with pytest.raises(InvalidSpec) as caught:
        parse_scope(raw, field="scope")
    assert [e.path for e in caught.value.errors] == ["scope"]
    assert '"/"' in caught.value.errors[0].message


@pytest.mark.parametrize(
    ("outer", "inner", "covers"),
    [
        ("/", "/", True),
        ("/", "/registries/a1", True),
        ("/registries/a1", "/registries/A1", True),
        ("/registries/A1", "/registries/a1/assets/m", True),
        ("/registries/a1", "/registries/a2", False),
        ("/registries/a1", "/registries/a10", False),
        ("/registries/a1", "/", False),
    ],
)
def test_scope_covers(outer, inner, covers):
    assert scope_covers(outer, inner) is covers


def test_registry_scope_and_back():
    assert registry_scope("Demo") == "/registries/demo"
    assert scope_registry("/registries/Demo") == "demo"
    assert scope_registry("/") is None
    with pytest.raises(InvalidSpec):
        registry_scope("a/b")


# --- authorize ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("assignments", "action", "scope", "allowed"),
    [
        ([], Action.REGISTRIES_READ, "/registries/r1", False),
        ([assign(ALICE.id, READER)], Action.REGISTRIES_READ, "/registries/r1", True),
        ([assign(ALICE.id, READER)], Action.REGISTRIES_READ, "/", True),
        ([assign(ALICE.id, READER, "/registries/r1")], Action.REGISTRIES_READ, "/registries/R1", True),
        ([assign(ALICE.id, READER, "/registries/r1")], Action.REGISTRIES_READ, "/registries/r2", False),
        ([assign(ALICE.id, READER, "/registries/r1")], Action.REGISTRIES_READ, "/", False),
        ([assign(BOB.id, OWNER)], Action.REGISTRIES_READ, "/registries/r1", False),  # someone else's
        ([assign(ALICE.id.upper(), OWNER)], Action.ROLE_ASSIGNMENTS_WRITE, "/", True),  # ids case-insensitive
        ([assign(ALICE.id, CONTRIBUTOR)], Action.ROLE_ASSIGNMENTS_WRITE, "/registries/r1", False),
        ([assign(ALICE.id, OWNER, "/registries/r1")], Action.ROLE_ASSIGNMENTS_WRITE, "/registries/r1", True),
        ([assign(ALICE.id, OWNER, "/registries/r1")], Action.REGISTRIES_WRITE, "/", False),  # create needs "/"
        ([assign(ALICE.id, "00000000-dead-beef-0000-000000000000")], Action.REGISTRIES_READ, "/", False),
        ([assign(ALICE.id, role_definition_arm_id(READER.id))], Action.REGISTRIES_READ, "/", True),
    ],
)
def test_authorize(assignments, action, scope, allowed):
    assert authorize(ALICE, action, scope, assignments).allowed is allowed


def test_assignments_to_a_group_apply_to_its_members():
    member = Principal(id=ALICE.id, name=ALICE.name, groups=frozenset({TEAM.upper()}))
    assignments = [assign(TEAM, AZUREML_REGISTRY_USER, "/registries/r1")]
    assert authorize(member, Action.ASSETS_WRITE, "/registries/r1", assignments).allowed
    assert not authorize(ALICE, Action.ASSETS_WRITE, "/registries/r1", assignments).allowed


def test_a_denial_is_worded_as_arms_authorization_failed():
    decision = authorize(ALICE, Action.REGISTRIES_DELETE, "/registries/Demo", [assign(ALICE.id, READER)])
    assert not decision.allowed
    assert decision.message == (
        "The client 'alice@contoso.com' with object id '11111111-1111-1111-1111-111111111111' does not have "
        "authorization to perform action 'Microsoft.MachineLearningServices/registries/delete' over scope "
        "'/registries/demo' or the scope is invalid. If access was recently granted, please refresh your "
        "credentials."
    )
    with pytest.raises(Forbidden) as caught:
        decision.require()
    assert caught.value.code == "AuthorizationFailed"
    assert caught.value.status == 403


def test_an_allowed_decision_names_the_assignment_and_requires_nothing():
    grant = assign(ALICE.id, READER, "/registries/r1")
    decision = authorize(ALICE, Action.ASSETS_READ, "/registries/r1", [grant])
    assert decision.granted_by == grant
    decision.require()


def test_readable_registries_filter_lists():
    assignments = [
        assign(ALICE.id, READER, "/registries/Alpha", 1),
        assign(ALICE.id, AZUREML_REGISTRY_USER, "/registries/beta", 2),
        assign(ALICE.id, RoleDefinition(CUSTOM_ID, "Writer", "", (Action.ASSETS_WRITE,)), "/registries/gamma", 3),
        assign(BOB.id, OWNER, ROOT_SCOPE, 4),
    ]
    custom = [RoleDefinition(CUSTOM_ID, "Writer", "", (Action.ASSETS_WRITE,))]
    alice = readable_registries(ALICE, assignments, custom)
    assert alice == RegistryFilter(all=False, names=frozenset({"alpha", "beta"}))
    assert alice.allows("ALPHA") and not alice.allows("gamma")
    assert readable_registries(BOB, assignments).all
    assert readable_registries(BOB, assignments).allows("anything")
    writers = registries_permitting(ALICE, Action.ASSETS_WRITE, assignments, custom)
    assert writers.names == {"beta", "gamma"}
    assert can_read_registry(ALICE, "Beta", assignments)
    assert not can_read_registry(ALICE, "gamma", assignments, custom)


def test_assignments_must_lie_within_the_roles_assignable_scopes():
    scoped = RoleDefinition(CUSTOM_ID, "R1 only", "", (Action.ASSETS_READ,), (), ("/registries/r1",))
    assert check_assignable(scoped, "/registries/R1") == "/registries/r1"
    assert check_assignable(READER, "/registries/r2") == "/registries/r2"
    with pytest.raises(InvalidSpec) as caught:
        check_assignable(scoped, "/")
    assert caught.value.errors[0].path == "scope"
    with pytest.raises(InvalidSpec):
        check_assignable(READER, "/nonsense")


# --- personas of the Azure ML registry docs ------------------------------------------------------

REGISTRY = "/registries/demoregistry1"
CREATE_ASSETS_ROLE = {
    "roleName": "Registry asset publisher",
    "description": "Create and use assets, without managing registries",
    "actions": [
        "Microsoft.MachineLearningServices/registries/read",
        "Microsoft.MachineLearningServices/registries/assets/read",
        "Microsoft.MachineLearningServices/registries/assets/write",
        "Microsoft.MachineLearningServices/registries/assets/delete",
    ],
    "assignableScopes": ["/"],
}
MANAGE = {Action.REGISTRIES_WRITE, Action.REGISTRIES_DELETE}
USE = {Action.REGISTRIES_READ, Action.ASSETS_READ}
CREATE = {Action.ASSETS_WRITE, Action.ASSETS_DELETE}


@pytest.mark.parametrize(
    ("persona", "role", "allowed", "denied"),
    [
        ("use assets (Reader)", READER, USE, CREATE | MANAGE),
        ("use assets (AzureML Registry User)", AZUREML_REGISTRY_USER, USE | CREATE, MANAGE),
        ("create and use assets (custom role)", "custom", USE | CREATE, MANAGE),
        ("manage registries (Contributor)", CONTRIBUTOR, USE | CREATE | MANAGE, {Action.ROLE_ASSIGNMENTS_WRITE}),
        ("manage registries and access (Owner)", OWNER, USE | CREATE | MANAGE | {Action.ROLE_ASSIGNMENTS_WRITE}, set()),
    ],
)
def test_the_personas_of_the_azure_ml_docs(persona, role, allowed, denied):
    custom = parse_custom_role(CREATE_ASSETS_ROLE, role_id=CUSTOM_ID)
    definition = custom if role == "custom" else role
    assignments = [assign(ALICE.id, definition, REGISTRY)]
    for action in allowed:
        assert authorize(ALICE, action, REGISTRY, assignments, [custom]).allowed, (persona, action)
    for action in denied:
        assert not authorize(ALICE, action, REGISTRY, assignments, [custom]).allowed, (persona, action)


# --- custom role validation -----------------------------------------------------------------------


def test_a_valid_custom_role_is_parsed():
    role = parse_custom_role(
        {
            "roleName": "  Asset reader  ",
            "actions": ["*/read", "*/read"],
            "notActions": ["Microsoft.Authorization/*"],
            "assignableScopes": ["/Registries/DemoRegistry1", "/"],
        },
        role_id=CUSTOM_ID.upper(),
    )
    assert role == RoleDefinition(
        CUSTOM_ID,
        "Asset reader",
        "",
        ("*/read",),
        ("Microsoft.Authorization/*",),
        ("/registries/demoregistry1", "/"),
        built_in=False,
    )
    assert role.role_type == "CustomRole"


@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({}, ["roleName", "actions", "assignableScopes"]),
        ({**CREATE_ASSETS_ROLE, "roleName": "   "}, ["roleName"]),
        ({**CREATE_ASSETS_ROLE, "roleName": 7}, ["roleName"]),
        ({**CREATE_ASSETS_ROLE, "roleName": "x" * 513}, ["roleName"]),
        ({**CREATE_ASSETS_ROLE, "roleName": "owner"}, ["roleName"]),
        ({**CREATE_ASSETS_ROLE, "description": ["no"]}, ["description"]),
        ({**CREATE_ASSETS_ROLE, "actions": []}, ["actions"]),
        ({**CREATE_ASSETS_ROLE, "actions": "*/read"}, ["actions"]),
        (
            {**CREATE_ASSETS_ROLE, "actions": ["*/read", "Microsoft.Foo//read", 3, "Microsoft.Foo/bar read", "a/b/"]},
            ["actions[1]", "actions[2]", "actions[3]", "actions[4]"],
        ),
        ({**CREATE_ASSETS_ROLE, "actions": ["Microsoft.Foo/" + "a" * 300]}, ["actions[0]"]),
        ({**CREATE_ASSETS_ROLE, "notActions": ["ok/*", "bad action"]}, ["notActions[1]"]),
        ({**CREATE_ASSETS_ROLE, "notActions": "*"}, ["notActions"]),
        ({**CREATE_ASSETS_ROLE, "assignableScopes": []}, ["assignableScopes"]),
        (
            {**CREATE_ASSETS_ROLE, "assignableScopes": ["/", "/subscriptions/x", 5]},
            ["assignableScopes[1]", "assignableScopes[2]"],
        ),
        ({**CREATE_ASSETS_ROLE, "permissions": []}, ["permissions"]),
    ],
)
def test_invalid_custom_roles_list_every_offending_field(body, paths):
    with pytest.raises(InvalidSpec) as caught:
        parse_custom_role(body, role_id=CUSTOM_ID)
    assert [e.path for e in caught.value.errors] == paths
    assert f"({len(paths)} error" in caught.value.message


@pytest.mark.parametrize("role_id", [READER.id, "not-a-guid"])
def test_a_custom_role_needs_a_guid_that_is_not_a_built_in_one(role_id):
    with pytest.raises(InvalidSpec) as caught:
        parse_custom_role(CREATE_ASSETS_ROLE, role_id=role_id)
    assert [e.path for e in caught.value.errors] == ["id"]


# --- data-plane roles -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (OWNER, DataPlaneRoles(STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)),
        (CONTRIBUTOR, DataPlaneRoles(STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)),
        (AZUREML_REGISTRY_USER, DataPlaneRoles(STORAGE_BLOB_DATA_CONTRIBUTOR, ACR_PUSH)),
        (READER, DataPlaneRoles(STORAGE_BLOB_DATA_READER, ACR_PULL)),
        (
            RoleDefinition(CUSTOM_ID, "reads assets", "", (Action.ASSETS_READ,)),
            DataPlaneRoles(STORAGE_BLOB_DATA_READER, ACR_PULL),
        ),
        (RoleDefinition(CUSTOM_ID, "registry metadata", "", (Action.REGISTRIES_READ,)), None),
        (RoleDefinition(CUSTOM_ID, "access admin", "", ("Microsoft.Authorization/*",)), None),
        (
            RoleDefinition(CUSTOM_ID, "all but writes", "", ("*",), ("*/write",)),
            DataPlaneRoles(STORAGE_BLOB_DATA_READER, ACR_PULL),
        ),
    ],
    ids=lambda v: v.role_name if isinstance(v, RoleDefinition) else "",
)
def test_data_plane_roles_follow_the_asset_actions_a_role_permits(role, expected):
    assert data_plane_roles(role) == expected


def test_data_plane_role_ids_are_azures():
    assert STORAGE_BLOB_DATA_CONTRIBUTOR == "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
    assert STORAGE_BLOB_DATA_READER == "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"
    assert ACR_PUSH == "8311e382-0749-4cb8-b61a-304f252e45ec"
    assert ACR_PULL == "7f951dda-4ed3-4680-a7ca-43fe172d538d"


ACCOUNT = "/subscriptions/s/resourceGroups/regctl-demo/providers/Microsoft.Storage/storageAccounts/demoabc"


def test_data_plane_assignment_names_are_deterministic_uuid5s():
    assert uuid.uuid5(uuid.NAMESPACE_URL, "urn:regctl:role-assignments") == ROLE_ASSIGNMENT_NAMESPACE
    name = data_plane_assignment_name(ACCOUNT, ALICE.id, STORAGE_BLOB_DATA_READER)
    assert name == str(
        uuid.uuid5(ROLE_ASSIGNMENT_NAMESPACE, f"{ACCOUNT.lower()}|{ALICE.id}|{STORAGE_BLOB_DATA_READER}")
    )
    assert uuid.UUID(name).version == 5
    # case, a trailing slash and the role's ARM id form do not change it
    assert name == data_plane_assignment_name(ACCOUNT.upper() + "/", ALICE.id.upper(), STORAGE_BLOB_DATA_READER.upper())
    assert name == data_plane_assignment_name(
        ACCOUNT,
        ALICE.id,
        f"/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/{STORAGE_BLOB_DATA_READER}",
    )


@pytest.mark.parametrize(
    "other",
    [
        (ACCOUNT + "x", ALICE.id, STORAGE_BLOB_DATA_READER),
        (ACCOUNT, BOB.id, STORAGE_BLOB_DATA_READER),
        (ACCOUNT, ALICE.id, STORAGE_BLOB_DATA_CONTRIBUTOR),
    ],
)
def test_data_plane_assignment_names_differ_by_scope_principal_and_role(other):
    assert data_plane_assignment_name(*other) != data_plane_assignment_name(ACCOUNT, ALICE.id, STORAGE_BLOB_DATA_READER)
