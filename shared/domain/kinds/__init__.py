"""The kinds of work, in the order planning and drift walk them (DESIGN.md section 7).

Adding a kind is one module in this folder plus one line below (docs/architecture.md, "Adding a kind of
work").
"""

from __future__ import annotations

from shared.domain.kinds import acr, group, network, replica, storage
from shared.domain.work import Kind

KINDS: tuple[Kind, ...] = (
    group.KIND,
    storage.KIND,
    acr.KIND,
    replica.KIND,
    network.KIND,
)

_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}


def kind_named(name: str) -> Kind:
    """The registered kind ``name``; ``KeyError`` for one regctl does not know."""
    return _BY_NAME[name]


def register(kind: Kind) -> None:
    """Make ``kind`` known to decisions and steps without planning it (tests' own kinds)."""
    _BY_NAME[kind.name] = kind
