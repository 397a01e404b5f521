"""In-memory fakes of the access ports: the access store and an authenticator (fakes, not mocks)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime

from shared.domain.access import Principal, RoleAssignment
from shared.domain.activity import ActivityEntry
from shared.domain.errors import Unauthenticated
from shared.domain.roles import RoleDefinition

OWNER_ID = "0b0e0000-0000-4000-8000-000000000001"
OWNER_TOKEN = "owner-token"


class FakeAccessStore:
    def __init__(self) -> None:
        self.definitions: dict[str, RoleDefinition] = {}
        self.assignments: dict[str, tuple[RoleAssignment, dict[str, str]]] = {}
        self.activity: list[ActivityEntry] = []
        self.counter = 0

    def version(self) -> int:
        return self.counter

    def bump_version(self) -> int:
        self.counter += 1
        return self.counter

    def list_definitions(self) -> list[RoleDefinition]:
        return list(self.definitions.values())

    def save_definition(self, definition: RoleDefinition) -> None:
        self.definitions[definition.id] = definition

    def delete_definition(self, role_id: str) -> None:
        self.definitions.pop(role_id, None)

    def list_assignments(self) -> list[RoleAssignment]:
        return [a for a, _ in self.assignments.values()]

    def data_plane_operations(self, assignment_id: str) -> dict[str, str]:
        found = self.assignments.get(assignment_id)
        return dict(found[1]) if found else {}

    def save_assignment(self, assignment: RoleAssignment, data_plane: dict[str, str]) -> None:
        self.assignments[assignment.id] = (assignment, dict(data_plane))

    def delete_assignment(self, assignment_id: str) -> None:
        self.assignments.pop(assignment_id, None)

    def record_activity(self, entry: ActivityEntry) -> None:
        self.activity.append(copy.deepcopy(entry))

    def list_activity(self, registry: str | None, since: datetime | None, limit: int) -> list[ActivityEntry]:
        found = [
            e
            for e in self.activity
            if (registry is None or e.registry == registry) and (since is None or e.time >= since)
        ]
        return sorted(found, key=lambda e: e.time, reverse=True)[:limit]


class FakeAuthenticator:
    """Bearer tokens are looked up in ``tokens``; the owner's token is there from the start."""

    def __init__(self) -> None:
        self.tokens: dict[str, Principal] = {OWNER_TOKEN: Principal(OWNER_ID, "owner@example.com")}

    def token_for(self, principal: Principal) -> str:
        token = f"token-{principal.id}"
        self.tokens[token] = principal
        return token

    def authenticate(self, headers: Mapping[str, str]) -> Principal:
        raw = next((v for k, v in headers.items() if k.lower() == "authorization"), None)
        if raw is None:
            raise Unauthenticated("an Authorization: Bearer token is required", code="AuthenticationRequired")
        scheme, _, token = raw.partition(" ")
        found = self.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if found is None:
            raise Unauthenticated("the access token is invalid")
        return found
