"""Defaults every kind shares; a kind module overrides what differs (``shared/domain/work.py``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.domain.resources import Observed, Part
from shared.domain.work import Action, Context, Difference, Subject, Verb


class KindBase:
    name: str = ""
    noun: str = ""  # how a busy instance is named: "storage account {name}"
    reads: frozenset[Part] = frozenset()
    lifecycle: bool = True
    unblocks: bool = False
    teardown_after: tuple[str, ...] = ()

    def blocked(self, ctx: Context) -> str | None:
        return None

    def check(self, ctx: Context) -> list[tuple[str, str, str]]:
        return []

    def needs(self, want: Any, have: Any) -> list[Difference]:
        return []

    def create(self, subject: Subject, want: Any, have: Any | None, ctx: Context) -> Action:
        return Action(Verb.WAIT, why=f"{self.noun} is created by the kind that owns it")

    def update(self, want: Any, have: Any, ctx: Context) -> Action:
        return Action(Verb.NOOP, why=f"{self.noun} as specified")

    def delete(self, have: Any, ctx: Context) -> Action:
        return Action(Verb.NOOP, why=f"{self.noun} goes with the resource that owns it")

    def label(self, subject: Subject) -> str:
        return f"{self.noun} {subject.region}"

    def summary(self, observed: Observed) -> Mapping[str, Any]:
        return {}


def location_refusal(what: str, location: str | None, desired: str) -> list[tuple[str, str, str]]:
    """A resource's location never changes in Azure, so neither does the primary region."""
    if location is None or not location or location == desired:
        return []
    message = f'the primary region is immutable: the {what} is in "{location}", the spec asks for "{desired}"'
    return [("PrimaryLocationImmutable", "location", message)]
