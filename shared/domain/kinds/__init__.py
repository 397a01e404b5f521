"""The kinds of work, in the order planning and drift walk them (DESIGN.md section 7).

Adding a kind is one module in this folder (defining ``KIND``, or ``KINDS`` for a module of several) plus
its name in ``MODULES`` below (docs/architecture.md, "Adding a kind of work").
"""

from __future__ import annotations

from importlib import import_module

from shared.domain.work import Kind

MODULES = (
    "group",
    "storage",
    "acr",
    "replica",
    "network",
    "dataplane",
    "assets",
    "images",
    "eventgrid",
    "sources",
)


def _kinds_of(module: str) -> tuple[Kind, ...]:
    loaded = import_module(f"{__name__}.{module}")
    return tuple(loaded.KINDS) if hasattr(loaded, "KINDS") else (loaded.KIND,)


KINDS: tuple[Kind, ...] = tuple(kind for module in MODULES for kind in _kinds_of(module))

_BY_NAME: dict[str, Kind] = {k.name: k for k in KINDS}


def kind_named(name: str) -> Kind:
    """The registered kind ``name``; ``KeyError`` for one regctl does not know."""
    return _BY_NAME[name]


def register(kind: Kind) -> None:
    """Make ``kind`` known to decisions and steps without planning it (tests' own kinds)."""
    _BY_NAME[kind.name] = kind
