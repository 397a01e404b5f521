"""What a handler gets: the request, its route, the store and the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sandbox.arm.acr_images import ImageHooks
from sandbox.arm.config import Settings
from sandbox.arm.envelope import Response, resource_group_being_deleted, resource_group_not_found
from sandbox.arm.faults import FaultEngine
from sandbox.arm.http import Request, page
from sandbox.arm.lro import OpError
from sandbox.arm.routes import Route
from sandbox.arm.state import ResourceGroup, Store


@dataclass
class Ctx:
    request: Request
    route: Route
    store: Store
    faults: FaultEngine
    #: ``time.monotonic()`` when the request was taken in; operations are timed against it.
    now: float
    #: Where importImage announces the tags it wrote (``acr_images.py``).
    image_hooks: ImageHooks = field(default_factory=ImageHooks)

    @property
    def settings(self) -> Settings:
        return self.store.settings

    @property
    def method(self) -> str:
        return self.request.method

    def param(self, name: str) -> str:
        return self.route.params[name]

    @property
    def subscription(self) -> str:
        return self.route.params["sub"]

    def lro_failure(self) -> OpError | None:
        """The injected outcome for the operation this request is about to start, if any."""
        return self.faults.lro_failure(self.request.method, self.route.resource_type)

    def group(self) -> ResourceGroup:
        """The route's resource group; 404 ``ResourceGroupNotFound`` as ARM answers for any child."""
        rg = self.param("rg")
        group = self.store.group(self.subscription, rg)
        if group is None:
            raise resource_group_not_found(rg)
        return group

    def group_for_write(self) -> ResourceGroup:
        """As ``group`` but refuses to create anything in a group being deleted."""
        group = self.group()
        if group.deleting is not None:
            raise resource_group_being_deleted(group.name)
        return group

    def paged(self, items: list[dict[str, Any]]) -> Response:
        return page(self.request, items, self.settings.page_size)

    def path(self) -> str:
        """The request path (as sent) without the query."""
        return self.request.raw_path
