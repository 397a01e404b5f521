"""Drift, field by field (pure): where what ARM shows differs from the spec, over every kind of work.

Reported in ``GET /api/registries/{name}`` after every reconcile, whatever the reconcile policy; under the
``observe`` policy it is the only thing a reconcile does. Each kind's ``needs`` is the comparison.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from shared.domain.kinds import KINDS
from shared.domain.resources import Observed
from shared.domain.spec import RegistrySpec
from shared.domain.work import Context, Grant, Kind, Watch


@dataclass(frozen=True)
class DriftItem:
    resource: str  # e.g. "storage westus[0]", "replica eastus2", "container registry"
    field: str  # e.g. "sku", "tags", "exists"
    desired: str
    actual: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def drift(
    spec: RegistrySpec,
    observed: Observed,
    kinds: tuple[Kind, ...] = KINDS,
    grants: tuple[Grant, ...] = (),
    watches: tuple[Watch, ...] = (),
) -> list[DriftItem]:
    ctx = Context(spec, observed, "", grants=grants, watches=watches)
    items: list[DriftItem] = []
    for kind in kinds:
        wants, haves = kind.desired(ctx), kind.actual(ctx)
        for subject, want in wants.items():
            have = haves.get(subject)
            if have is None:
                if kind.lifecycle:
                    items.append(DriftItem(kind.label(subject), "exists", "present", "missing"))
                continue
            items.extend(DriftItem(kind.label(subject), d.field, d.desired, d.actual) for d in kind.needs(want, have))
        if kind.lifecycle:
            items.extend(
                DriftItem(kind.label(subject), "exists", "absent", "present")
                for subject in haves
                if subject not in wants
            )
    return items


def summarize(observed: Observed, kinds: tuple[Kind, ...] = KINDS) -> dict[str, object]:
    """Per-resource state for the registry document, each kind its part."""
    resources: dict[str, object] = {}
    for kind in kinds:
        resources.update(kind.summary(observed))
    return resources
