"""The activity log (pure data): every accepted write, with who asked, what, where, when and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from shared.domain.access import Principal


@dataclass(frozen=True)
class ActivityEntry:
    time: datetime
    principal: Principal | None
    action: str  # Azure's action string, e.g. Microsoft.MachineLearningServices/registries/write
    scope: str  # "/" or "/registries/{name}"
    result: str  # "Accepted", "Succeeded", "Deleted", "NotFound", ...
    registry: str = ""  # registry key, "" for the control plane's own scope
    operation: str | None = None  # the operation it started, if any
    detail: str | None = None
