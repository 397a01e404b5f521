"""``regctl role create|list|delete``: custom role definitions, beside the built-in ones.

``create`` reads a YAML (or ``.json``) file in Azure's shape::

    roleName: Registry Asset Reader
    description: Reads registries and their assets
    actions:
      - Microsoft.MachineLearningServices/registries/read
      - Microsoft.MachineLearningServices/registries/assets/read
    notActions: []
    assignableScopes: ["/"]
    id: 0b8b1b4e-...   # optional

checks it offline with the API's own rules (``shared.domain.access.parse_custom_role``; an invalid file
exits 2 and nothing is sent) and PUTs it to ``/api/roleDefinitions/{id}``. Without ``id`` the id is a
``uuid5`` of the role's name (lowercased), so running ``create`` again with the same file updates the same
role instead of making another.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Annotated, Any

import typer

from regctl.access_tables import role_list, role_view
from regctl.client import DEFAULT_ENDPOINT
from regctl.errors import EXIT_OK
from regctl.files import load_document, read_source
from regctl.options import EndpointOption, OutputOption, RoleFileOption
from regctl.output import ViewFormat, print_document, print_table, say
from regctl.runtime import connect, handled
from shared.domain.access import parse_custom_role
from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.roles import role_definition_guid

ROLE_DEFINITION_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:regctl:role-definitions")
"""The namespace of the ids ``role create`` derives from role names. Never change it: a re-run would then
create a second role instead of updating the first."""
NO_ID = "00000000-0000-0000-0000-000000000000"
"""Stands for the id while checking a file that has neither ``id`` nor a usable ``roleName``."""


def role_id_for(role_name: str) -> str:
    """The id of a role created without one: ``uuid5`` of its name, stripped and lowercased."""
    return str(uuid.uuid5(ROLE_DEFINITION_NAMESPACE, role_name.strip().lower()))


def read_role(file: str) -> tuple[str, dict[str, Any]]:
    """The role's id and the body to PUT; ``InvalidSpec`` (every offending field) or ``UsageProblem``."""
    document = load_document(file, read_source(file))
    body = {key: value for key, value in document.items() if key != "id"}
    raw_id = document.get("id")
    name = body.get("roleName")
    if raw_id is not None:
        if not isinstance(raw_id, str) or not raw_id.strip():
            raise InvalidSpec("the role definition is invalid (1 error)", [FieldError("id", "must be a GUID")])
        role_id = role_definition_guid(raw_id.strip())
    elif isinstance(name, str) and name.strip():
        role_id = role_id_for(name)
    else:
        role_id = NO_ID  # parse_custom_role reports the missing roleName
    parse_custom_role(body, role_id=role_id)
    return role_id, body


def show_role(document: Mapping[str, Any], output: ViewFormat) -> None:
    if output is ViewFormat.TABLE:
        print_table(role_view(document))
    else:
        print_document(dict(document), output)


def create(
    ctx: typer.Context,
    *,
    file: RoleFileOption,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Create or update a custom role from a file (checked offline first); idempotent."""
    with handled():
        role_id, body = read_role(file)
        with connect(ctx, endpoint) as api:
            document = api.put_role_definition(role_id, body)
    show_role(document, output)


def list_(
    ctx: typer.Context,
    *,
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """List role definitions, built-in and custom (json/yaml: the API's {"value": [...]} document)."""
    with handled(), connect(ctx, endpoint) as api:
        document = api.list_role_definitions()
    if output is ViewFormat.TABLE:
        print_table(role_list([d for d in document["value"] if isinstance(d, Mapping)]))
    else:
        print_document(document, output)


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(role_definition_guid(value))
    except ValueError:
        return False
    return True


def delete(
    ctx: typer.Context,
    *,
    role: Annotated[str, typer.Argument(metavar="ROLE", help="The custom role's name or id.")],
    output: OutputOption = ViewFormat.TABLE,
    endpoint: EndpointOption = DEFAULT_ENDPOINT,
) -> None:
    """Delete a custom role (refused, 409 RoleDefinitionInUse, while it is assigned). Exits 0 when there was
    no such role (said on stderr)."""
    with handled(), connect(ctx, endpoint) as api:
        if _is_guid(role):
            role_id = role_definition_guid(role)
        else:
            wanted = role.strip().lower()
            found = [
                d
                for d in api.list_role_definitions()["value"]
                if isinstance(d, Mapping)
                and isinstance(d.get("properties"), Mapping)
                and str(d["properties"].get("roleName") or "").strip().lower() == wanted
            ]
            if not found:
                say(f"regctl: nothing to delete: there is no role named {role!r}")
                raise typer.Exit(EXIT_OK)
            role_id = str(found[0].get("name"))
        document = api.delete_role_definition(role_id)
    if document is None:
        say(f"regctl: nothing to delete: there is no role definition {role_id}")
        raise typer.Exit(EXIT_OK)
    show_role(document, output)
