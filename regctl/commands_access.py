"""``regctl access grant|revoke|list``: role assignments at ``/`` (every registry) or ``/registries/{name}``.

``grant`` PUTs ``/api/roleAssignments/{guid}`` with a new GUID (``--id`` reuses one, so a retried grant is
answered 200 rather than 409 ``RoleAssignmentExists``). A grant of a role that reaches the data plane
(storage and ACR) starts an operation named in ``properties.dataPlane.operation``; ``--wait`` follows it as
``registry create --wait`` follows its own, then prints the assignment as it is then. ``revoke`` finds the
assignment by listing the scope and principal and matching the role by name or id (or takes ``--id``), then
DELETEs it; nothing to revoke is not an error (exit 0, said on stderr).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any

import typer

from regctl.access_tables import assignment_list, assignment_view
from regctl.client import DEFAULT_ENDPOINT, ApiClient
from regctl.commands_operation import Waiting, follow, waiting
from regctl.errors import EXIT_FAILED, EXIT_OK, UsageProblem
from regctl.options import (
    DEFAULT_INTERVAL,
    EndpointOption,
    IntervalOption,
    OutputOption,
    PrincipalIdOption,
    RegistryScopeOption,
    RoleOption,
    ScopeOption,
    TimeoutOption,
)
from regctl.output import ViewFormat, print_document, print_table, say
from regctl.runtime import connect, handled, runtime_of
from shared.domain.access import parse_scope
from shared.domain.errors import InvalidSpec
from shared.domain.roles import find_role, role_definition_guid


class PrincipalType(StrEnum):
    USER = "User"
    GROUP = "Group"
    SERVICE_PRINCIPAL = "ServicePrincipal"


PrincipalTypeOption = Annotated[
    PrincipalType,
    typer.Option("--principal-type", help="What the principal is.", case_sensitive=False),
]
GrantIdOption = Annotated[
    str | None,
    typer.Option(
        "--id",
        help="The role assignment's GUID, instead of a new one: repeating the grant then answers 200, not 409.",
        show_default=False,
    ),
]
RevokeIdOption = Annotated[
    str | None,
    typer.Option("--id", help="The role assignment's GUID (instead of scope, principal and role).", show_default=False),
]
RevokeWaitOption = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="Follow the removal of the data-plane roles to its end and print that operation; exit 1 if it fails.",
    ),
]
GrantWaitOption = Annotated[
    bool,
    typer.Option(
        "--wait",
        help="Follow the data-plane operation (storage and ACR role assignments) to its end, then print the "
        "assignment; exit 1 if it fails.",
    ),
]


# -- checked offline ------------------------------------------------------------------------------------


def guid(value: str, option: str) -> str:
    """``value`` as a lowercase GUID; ``UsageProblem`` naming ``option`` otherwise."""
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise UsageProblem(f"{option} must be a GUID, not {value[:60]!r}") from None


def target_scope(registry: str | None, scope: str | None, *, required: bool) -> str | None:
    """The scope that ``--registry NAME`` or ``--scope`` names (they are exclusive), normalised."""
    if registry is not None and scope is not None:
        raise UsageProblem("--registry and --scope are exclusive: give one of them")
    if registry is not None:
        raw = f"/registries/{registry}"
        problem = f"--registry {registry[:60]!r} is not a registry name (2-32 letters, digits, '-' and '_')"
    elif scope is not None:
        raw = scope.strip()
        problem = f'--scope must be "/" or /registries/NAME, not {raw[:60]!r}'
    elif required:
        raise UsageProblem('give --registry NAME, or --scope "/" for every registry')
    else:
        return None
    try:
        return parse_scope(raw)
    except InvalidSpec:
        raise UsageProblem(problem) from None


def required(value: str | None, option: str) -> str:
    if value is None or not value.strip():
        raise UsageProblem(f"{option} is required")
    return value.strip()


# -- what is printed ------------------------------------------------------------------------------------


def show_assignment(document: Mapping[str, Any], output: ViewFormat) -> None:
    if output is ViewFormat.TABLE:
        print_table(assignment_view(document))
    else:
        print_document(dict(document), output)


def _data_plane(document: Mapping[str, Any]) -> Mapping[str, Any]:
    properties = document.get("properties")
    plane = properties.get("dataPlane") if isinstance(properties, Mapping) else None
    return plane if isinstance(plane, Mapping) else {}


def data_plane_operation(document: Mapping[str, Any]) -> str | None:
    """The id of the operation that applies (or, in a DELETE's answer, removes) the assignment's data-plane
    roles, if any. At ``/`` there is one per registry; the API names the first."""
    operation = _data_plane(document).get("operation")
    if not isinstance(operation, str) or not operation.strip("/"):
        return None
    return operation.rstrip("/").rsplit("/", 1)[-1]


def data_plane_state(document: Mapping[str, Any]) -> str:
    return str(_data_plane(document).get("state") or "")


def report_assignment(
    ctx: typer.Context,
    api: ApiClient,
    document: Mapping[str, Any],
    output: ViewFormat,
    *,
    wait: Waiting | None,
    assignment_id: str,
) -> int:
    """Print the assignment. With ``--wait``: follow the data-plane operation it names, then, while the
    assignment's data plane is still Pending (at ``/`` each registry has an operation of its own), read it
    again every ``--interval`` until it is Applied or Failed or ``--timeout`` runs out; print it as it is
    then. Exit 1 unless it ends Applied."""
    operation = data_plane_operation(document)
    if wait is None or operation is None:
        show_assignment(document, output)
        return EXIT_OK
    runtime = runtime_of(ctx)
    deadline = None if wait.timeout is None else runtime.clock() + wait.timeout
    shown: list[Mapping[str, Any]] = []

    def present(_operation: Mapping[str, Any]) -> None:
        current = api.get_role_assignment(assignment_id)
        while data_plane_state(current) == "Pending" and (deadline is None or runtime.clock() < deadline):
            runtime.sleep(wait.interval)
            current = api.get_role_assignment(assignment_id)
        shown.append(current)
        show_assignment(current, output)

    code = follow(ctx, api, operation, output, wait, answered=True, present=present)
    state = data_plane_state(shown[-1]) if shown else ""
    if code != EXIT_OK or state in ("Applied", "NotApplicable"):
        return code
    if state == "Failed":
        say(f"regctl: the data-plane roles of role assignment {assignment_id} Failed in some registry")
    else:
        say(
            f"regctl: stopped waiting: the data-plane roles of role assignment {assignment_id} are still "
            f"{state or 'not reported'}; it goes on. See: regctl access list"
        )
    return EXIT_FAILED


# -- matching, for revoke -------------------------------------------------------------------------------


def _scope_key(scope: object) -> str:
    trimmed = str(scope or "").strip().strip("/").lower()
    return "/" + trimmed if trimmed else "/"


def role_matches(properties: Mapping[str, Any], role: str) -> bool:
    """Whether an assignment is of ``role``: by name (case-insensitive), or by GUID or ARM id; a built-in
    role's name also matches its id (an answer without ``roleName``)."""
    wanted = role.strip()
    if str(properties.get("roleName") or "").strip().lower() == wanted.lower():
        return True
    known = find_role(wanted)
    wanted_id = known.id if known is not None else role_definition_guid(wanted)
    return role_definition_guid(str(properties.get("roleDefinitionId") or "")) == wanted_id


def assignment_matches(document: Mapping[str, Any], scope: str, principal_id: str, role: str) -> bool:
    properties = document.get("properties")
    if not isinstance(properties, Mapping):
        return False
    return (
        _scope_key(properties.get("scope")) == _scope_key(scope)
        and str(properties.get("principalId") or "").lower() == principal_id.lower()
        and role_matches(properties, role)
    )


# -- commands -------------------------------------------------------------------------------------------


def grant(
    ctx: typer.Context,
    *,
    registry: RegistryScopeOption = None,
    scope: ScopeOption = None,
    principal_id: PrincipalIdOption = None,
    role: RoleOption = None,
    principal_type: PrincipalTypeOption = PrincipalType.USER,
    assignment_id: GrantIdOption = None,
    wait: GrantWaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Give a role to a principal on a registry (--registry) or on every registry (--scope /); with --wait,
    until its data-plane roles (storage and ACR, in every region) are in place."""
    with handled():
        target = target_scope(registry, scope, required=True)
        principal = guid(required(principal_id, "--principal-id"), "--principal-id")
        role_name = required(role, "--role")
        name = guid(assignment_id, "--id") if assignment_id is not None else str(uuid.uuid4())
        body = {
            "scope": target,
            "principalId": principal,
            "principalType": principal_type.value,
            "roleDefinitionId": role_name,
        }
        with connect(ctx, endpoint) as api:
            document = api.put_role_assignment(name, body)
            code = report_assignment(
                ctx, api, document, output, wait=waiting(wait, interval, timeout), assignment_id=name
            )
    raise typer.Exit(code)


def revoke(
    ctx: typer.Context,
    *,
    registry: RegistryScopeOption = None,
    scope: ScopeOption = None,
    principal_id: PrincipalIdOption = None,
    role: RoleOption = None,
    assignment_id: RevokeIdOption = None,
    wait: RevokeWaitOption = False,
    interval: IntervalOption = DEFAULT_INTERVAL,
    timeout: TimeoutOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Take a role back: the assignment of --role to --principal-id at the scope, or the one --id names; with
    --wait, follow the removal of its data-plane roles. Exits 0 when there was nothing to revoke (on stderr)."""
    with handled():
        if assignment_id is not None:
            if any(v is not None for v in (registry, scope, principal_id, role)):
                raise UsageProblem(
                    "--id names the assignment: give it alone, or --registry/--scope, --principal-id and --role"
                )
            names = [guid(assignment_id, "--id")]
            target = principal = wanted = ""
        else:
            target = target_scope(registry, scope, required=True) or "/"
            principal = guid(required(principal_id, "--principal-id"), "--principal-id")
            wanted = required(role, "--role")
            names = []
        with connect(ctx, endpoint) as api:
            if not names:
                listing = api.list_role_assignments(target, principal)
                found = [d for d in listing["value"] if isinstance(d, Mapping)]
                names = [str(d.get("name")) for d in found if assignment_matches(d, target, principal, wanted)]
                if not names:
                    say(f"regctl: nothing to revoke: {principal} holds no role {wanted!r} at scope {target}")
                    raise typer.Exit(EXIT_OK)
            deleted = [doc for doc in (api.delete_role_assignment(name) for name in names) if doc is not None]
            if not deleted:
                say(f"regctl: nothing to revoke: there is no role assignment {names[0]}")
                raise typer.Exit(EXIT_OK)
            plan = waiting(wait, interval, timeout)
            code = EXIT_OK
            operations = [op for op in map(data_plane_operation, deleted) if op is not None]
            if plan is not None and operations:
                for operation in operations:  # the removal of their data-plane roles; prints each operation
                    code = max(code, follow(ctx, api, operation, output, plan, answered=True))
                raise typer.Exit(code)
    if len(deleted) == 1:
        show_assignment(deleted[0], output)
    elif output is ViewFormat.TABLE:
        print_table(assignment_list(deleted))
    else:
        print_document({"value": deleted}, output)


def list_(
    ctx: typer.Context,
    *,
    registry: RegistryScopeOption = None,
    scope: ScopeOption = None,
    principal_id: PrincipalIdOption = None,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """List role assignments, of one registry or scope and of one principal if asked (json/yaml: {"value": [...]})."""
    with handled():
        target = target_scope(registry, scope, required=False)
        principal = guid(principal_id, "--principal-id") if principal_id is not None else None
        with connect(ctx, endpoint) as api:
            document = api.list_role_assignments(target, principal)
    if output is ViewFormat.TABLE:
        print_table(assignment_list([d for d in document["value"] if isinstance(d, Mapping)]))
    else:
        print_document(document, output)
