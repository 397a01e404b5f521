"""Queue messages: versioned, frozen, ``extra="forbid"`` (DESIGN.md section 5, "Messages").

``message_id`` is the Service Bus idempotency key: duplicate detection drops a second enqueue of the same
work. A poll of a running LRO and a retry after backoff are new deliveries of the same work, so they
carry a distinct ``attempt`` and hence a distinct id.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator

from shared.domain.kinds import kind_named
from shared.domain.work import REGISTRY_LANE, Action, Goal, Subject

SCHEMA_VERSION: Literal[1] = 1

#: Service Bus refuses a MessageId over 128 characters (the SDK raises before sending).
MAX_MESSAGE_ID = 128
_DIGEST_CHARS = 32


def bounded_message_id(readable: str) -> str:
    """``readable`` if it fits; else its head plus a digest of the whole, so the id stays deterministic
    (duplicate detection still matches a re-send) and distinct ids stay distinct."""
    if len(readable) <= MAX_MESSAGE_ID:
        return readable
    digest = hashlib.sha256(readable.encode("utf-8")).hexdigest()[:_DIGEST_CHARS]
    return f"{readable[: MAX_MESSAGE_ID - _DIGEST_CHARS - 1]}~{digest}"


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = SCHEMA_VERSION
    registry: str = Field(min_length=1, max_length=64)
    generation: int = Field(ge=0)
    operation_id: str = Field(min_length=1, max_length=80)


class Reconcile(_Message):
    """Observe the registry, diff against its newest spec, and enqueue the ready steps."""

    type: Literal["reconcile"] = "reconcile"
    lane: str = Field(default=REGISTRY_LANE, min_length=1, max_length=400)
    trigger: str = Field(default="", max_length=120)
    attempt: int = Field(default=0, ge=0)

    @property
    def message_id(self) -> str:
        """Distinct per trigger (a submit, each finished step, each recheck), so duplicate detection drops
        only true re-sends, never a later reconcile."""
        return bounded_message_id(
            f"{self.registry}:{self.generation}:reconcile:{self.operation_id}:{self.trigger}:{self.attempt}"
        )


class Step(_Message):
    """Run one step: a kind of work, its goal, on one subject (a region and storage index, and for item work
    the item)."""

    type: Literal["step"] = "step"
    kind: str = Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")
    goal: Goal = Goal.ENSURE
    region: str = Field(min_length=1, max_length=40)
    index: int = Field(default=0, ge=0)
    item: str = Field(default="", max_length=400)
    target: str = Field(default="", max_length=40)
    run: int = Field(default=0, ge=0)
    attempt: int = Field(default=0, ge=0)
    action: Action | None = None
    """What the reconcile that planned this step decided from the observation it had just made. The step's
    first delivery acts on it instead of observing again (one to two ARM reads fewer per step); a
    redelivery, a retry or a poll observes afresh."""

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        try:
            kind_named(value)
        except KeyError:
            raise ValueError(f"unknown kind of work {value!r}") from None
        return value

    @property
    def subject(self) -> Subject:
        return Subject(self.region, self.index, self.item, self.target)

    @property
    def name(self) -> str:
        """The step's name: its goal and kind (``ensure_storage``)."""
        return f"{self.goal}_{self.kind}"

    @property
    def message_id(self) -> str:
        """The operation and the run are part of the key: a sync at the same generation, or a step the loop
        needs again within one operation, is a new message; a poll or retry is a new attempt."""
        parts = (
            self.registry,
            self.generation,
            self.operation_id,
            self.name,
            self.subject.key,
            self.run,
            self.attempt,
        )
        return bounded_message_id(":".join(str(p) for p in parts))

    @property
    def step_key(self) -> str:
        """Identifies the step across attempts and polls (the record in the state store)."""
        return f"{self.name}:{self.subject.key}"

    @property
    def lane(self) -> str:
        return self.subject.lane


Message = Annotated[Reconcile | Step, Field(discriminator="type")]
MESSAGE_ADAPTER: TypeAdapter[Reconcile | Step] = TypeAdapter(Message)


def decode_message(body: str | bytes) -> Reconcile | Step:
    """Parse a queue message body; raises ``pydantic.ValidationError`` for a malformed one."""
    return MESSAGE_ADAPTER.validate_json(body)


class Requester(BaseModel):
    """Who asked for an operation."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str
    type: str


class OperationFinished(BaseModel):
    """Published at least once per terminal transition of an operation (its own queue). Consumers
    deduplicate by ``dedupe_key`` (operation id and status); Service Bus duplicate detection drops most
    re-sends already, as ``message_id`` is the same key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = SCHEMA_VERSION
    type: Literal["operation_finished"] = "operation_finished"
    operation_id: str = Field(min_length=1, max_length=80)
    registry: str = Field(min_length=1, max_length=64)
    kind: str
    lane: str
    status: str
    error_code: str | None = None
    error_message: str | None = None
    requested_by: Requester | None = None
    finished_at: datetime

    @property
    def dedupe_key(self) -> str:
        return f"{self.operation_id}:{self.status}"

    @property
    def message_id(self) -> str:
        return bounded_message_id(f"finished:{self.dedupe_key}")
