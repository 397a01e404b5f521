"""Write-back to tickets (pure): the queue message of one write, and the texts regctl writes.

The same queue carries ``start``: the ticket action an intake claimed (its request document, action key,
principal and the operation id the intake answered), for the consumer to submit (shared/services/tickets.py).
A write is one of ``accepted`` (the request became operation X), ``note`` (invalid, forbidden,
canceled: why; or done with nothing to run), ``progress`` (a check of which regions finished,
rescheduled while the operation runs) and ``final`` (the outcome, then the done/failed transition or
state). ``write_id`` names the write independently of its delivery attempt: it is what the ticket store
records once written, so a redelivered or retried write posts nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain.messages import SCHEMA_VERSION, bounded_message_id
from shared.domain.records import StepRecord, StepState
from shared.domain.tickets import TicketRef

WriteKind = Literal["start", "accepted", "note", "progress", "final"]


class TicketWrite(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = SCHEMA_VERSION
    type: Literal["ticket_write"] = "ticket_write"
    source: str = Field(min_length=1, max_length=20)
    key: str = Field(min_length=1, max_length=100)
    display: str = Field(default="", max_length=100)
    table: str = Field(default="", max_length=80)
    write: WriteKind
    operation_id: str | None = Field(default=None, max_length=80)
    text: str = Field(default="", max_length=4000)
    status: str | None = None
    round: int = Field(default=0, ge=0)
    attempt: int = Field(default=0, ge=0)
    # start only: what to submit, and as whom
    action: str | None = Field(default=None, max_length=200)
    request: dict[str, Any] | None = None
    principal_id: str | None = Field(default=None, max_length=80)

    @property
    def ref(self) -> TicketRef:
        return TicketRef(self.source, self.key, self.display, self.table)

    @property
    def write_id(self) -> str:
        subject = self.operation_id or hashlib.sha256(self.text.encode()).hexdigest()[:16]
        return f"{self.write}:{subject}:{self.round}" if self.write == "progress" else f"{self.write}:{subject}"

    @property
    def message_id(self) -> str:
        return bounded_message_id(f"ticket:{self.source}:{self.key}:{self.write_id}:{self.attempt}")


def region_progress(steps: Iterable[StepRecord]) -> tuple[list[str], list[str]]:
    """(regions whose every step succeeded, every region with a step), each sorted."""
    states: dict[str, list[StepState]] = {}
    for step in steps:
        if step.region:
            states.setdefault(step.region, []).append(step.state)
    done = [r for r, s in states.items() if all(state is StepState.SUCCEEDED for state in s)]
    return sorted(done), sorted(states)


def accepted_text(summary: str, operation_id: str, principal_id: str) -> str:
    return (
        f"regctl accepted this request ({summary}) as operation {operation_id}, acting as principal "
        f"{principal_id}. Progress and the outcome follow here."
    )


def progress_text(operation_id: str, done: list[str], total: int) -> str:
    return f"regctl operation {operation_id}: {len(done)}/{total} regions done ({', '.join(done)})."


def final_text(operation_id: str, status: str, error: str | None) -> str:
    text = f"regctl operation {operation_id} {status}."
    return f"{text} {error}" if error else text
