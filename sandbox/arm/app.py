"""The ASGI app: ARM front door checks, throttling, faults, dispatch, common headers, request log.

Order for every ARM request, as Azure's front door does it: bearer token (401), ``api-version`` (400),
route (404), subscription id shape (400), throttle buckets (429), then injected faults, then the
resource provider (the handler). Everything after reading the body runs under the store lock and is
pure CPU, so one lock is enough and the simulator stays fast. ``/_sandbox/`` is the control surface:
no auth, no faults, no throttling, not logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import quote

from sandbox.arm import acr, acr_import, authz, eventgrid, replications, resources, storage
from sandbox.arm.acr_images import ImageHooks
from sandbox.arm.admin import ControlSurface
from sandbox.arm.config import Settings
from sandbox.arm.context import Ctx
from sandbox.arm.envelope import ArmError, Response, error_response
from sandbox.arm.faults import FaultEngine
from sandbox.arm.http import Request
from sandbox.arm.routes import Route, RouteName, match
from sandbox.arm.state import Store
from sandbox.arm.throttle import OpType, Throttle

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

Handler = Callable[[Ctx], Response]

HANDLERS: dict[RouteName, Handler] = {
    RouteName.RG_LIST: resources.handle_list,
    RouteName.RG_ITEM: resources.handle_item,
    RouteName.RG_MONITOR: resources.handle_monitor,
    RouteName.PROVIDER: resources.handle_provider,
    RouteName.PROVIDER_REGISTER: resources.handle_provider,
    RouteName.STORAGE_CHECK_NAME: storage.handle_check_name,
    RouteName.STORAGE_LIST_SUB: storage.handle_list_sub,
    RouteName.STORAGE_LIST_RG: storage.handle_list_rg,
    RouteName.STORAGE_ITEM: storage.handle_item,
    RouteName.STORAGE_LIST_KEYS: storage.handle_list_keys,
    RouteName.STORAGE_MONITOR: storage.handle_monitor,
    RouteName.ACR_CHECK_NAME: acr.handle_check_name,
    RouteName.ACR_LIST_SUB: acr.handle_list_sub,
    RouteName.ACR_LIST_RG: acr.handle_list_rg,
    RouteName.ACR_ITEM: acr.handle_item,
    RouteName.ACR_IMPORT: acr_import.handle_import,
    RouteName.ACR_STATUS: acr.handle_status,
    RouteName.ACR_LOCATION_MONITOR: acr.handle_location_monitor,
    RouteName.REPL_LIST: replications.handle_list,
    RouteName.REPL_ITEM: replications.handle_item,
    RouteName.REPL_STATUS: replications.handle_status,
    RouteName.EG_TOPIC_LIST: eventgrid.handle_topic_list,
    RouteName.EG_TOPIC_LIST_SUB: eventgrid.handle_topic_list_sub,
    RouteName.EG_TOPIC_ITEM: eventgrid.handle_topic_item,
    RouteName.EG_SUB_LIST: eventgrid.handle_subscription_list,
    RouteName.EG_SUB_ITEM: eventgrid.handle_subscription_item,
    RouteName.EG_MONITOR: eventgrid.handle_monitor,
    RouteName.RA_LIST: authz.handle_list,
    RouteName.RA_ITEM: authz.handle_item,
}

_WWW_AUTHENTICATE = (
    'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token", '
    "error_description=\"The authentication failed because of missing 'Authorization' header.\""
)


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


class ArmApp:
    """The simulator. One instance per server; ``store`` is the whole state."""

    def __init__(self, settings: Settings) -> None:
        self.store = Store(settings)
        self.faults = FaultEngine()
        self.throttle = Throttle()
        #: Tags pushed, imported or deleted; the Event Grid stand-in subscribes (``acr_images.py``).
        self.image_hooks = ImageHooks()
        self.control = ControlSurface(self.store, self.faults, self.throttle, self.image_hooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = await _read_request(scope, receive)
        if request.raw_path == "/_sandbox" or request.raw_path.startswith("/_sandbox/"):
            response: Response | None = self.control.handle(request)
        else:
            response = self.handle_arm(request)
        if response is None:
            await drop_connection(send)
            return
        await _send(send, request, response)

    # ARM --------------------------------------------------------------------------------------------

    def handle_arm(self, request: Request) -> Response | None:
        """Answer one ARM request; ``None`` means "drop the connection" (injected fault)."""
        now = time.monotonic()
        op_type = OpType.of(request.method)
        route = match(request.segments)
        store = self.store
        rate_headers: dict[str, str] = {}
        response: Response | None
        with store.lock:
            store.settle(now)
            try:
                response = self._dispatch(request, route, op_type, now, rate_headers)
            except ArmError as err:
                response = err.to_response()
            except Exception:
                log.exception("simulator bug answering %s %s", request.method, request.raw_path)
                response = error_response(500, "InternalServerError", "The sandbox failed to process the request.")
            store.log_request(
                request.method,
                request.path_with_query,
                response.status if response is not None else 0,
                op_type.singular,
                now,
            )
        if response is not None:
            if not rate_headers:  # refused before the throttle: report the bucket without taking a token
                subscription = route.subscription if route is not None else _subscription_of(request.segments)
                with store.lock:
                    rate_headers = self.throttle.peek(subscription, op_type)
            for key, value in rate_headers.items():
                response.headers[key] = value
            if response.status == 401:
                response.headers.setdefault("www-authenticate", _WWW_AUTHENTICATE)
        return response

    def _dispatch(
        self, request: Request, route: Route | None, op_type: OpType, now: float, rate_headers: dict[str, str]
    ) -> Response | None:
        subscription = route.subscription if route is not None else _subscription_of(request.segments)
        _authenticate(request)
        if not request.api_version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        try:
            rate_headers.update(self.throttle.admit(subscription, op_type, now))
        except ArmError as err:
            rate_headers.update(err.headers)
            raise
        if route is None:
            raise ArmError(
                404,
                "InvalidResourceType",
                f"The resource type could not be found in the namespace of '{request.raw_path}' "
                f"for api version '{request.api_version}'.",
            )
        if subscription is not None and not _is_guid(subscription):
            raise ArmError(
                400,
                "InvalidSubscriptionId",
                f"The provided subscription identifier '{subscription}' is malformed or invalid.",
            )
        resource_type = route.resource_type
        if resource_type is None:
            op = self.store.operations.get(route.params.get("op", ""))
            resource_type = op.resource_type if op is not None else None
        fault = self.faults.status_fault(request.method, resource_type)
        if fault is not None:
            return None if fault.status == 0 else fault.response()
        ctx = Ctx(
            request=request,
            route=Route(route.name, route.params, resource_type),
            store=self.store,
            faults=self.faults,
            now=now,
            image_hooks=self.image_hooks,
        )
        return HANDLERS[route.name](ctx)


def _authenticate(request: Request) -> None:
    auth = request.headers.get("authorization", "")
    if not auth:
        raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ArmError(
            401,
            "AuthenticationFailedInvalidHeader",
            "Authentication failed. The 'Authorization' header is provided in an invalid format.",
        )


def _subscription_of(segments: list[str]) -> str | None:
    if len(segments) >= 2 and segments[0].lower() == "subscriptions":
        return segments[1]
    return None


# ASGI plumbing -----------------------------------------------------------------------------------


async def _read_request(scope: Scope, receive: Receive) -> Request:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    headers: dict[str, str] = {}
    for key, value in scope["headers"]:
        headers[key.decode("latin-1").lower()] = value.decode("latin-1")
    raw = scope.get("raw_path")
    raw_path = raw.decode("latin-1").split("?", 1)[0] if raw else quote(scope["path"])
    host = headers.get("host")
    if host is None:
        server = scope.get("server") or ("127.0.0.1", 0)
        host = f"{server[0]}:{server[1]}"
    return Request(
        method=scope["method"].upper(),
        raw_path=raw_path,
        query_string=scope.get("query_string", b"").decode("latin-1"),
        headers=headers,
        body=b"".join(chunks),
        base_url=f"{scope.get('scheme', 'https')}://{host}",
    )


async def _send(send: Send, request: Request, response: Response) -> None:
    request_id = str(uuid.uuid4())
    headers = response.headers
    headers["x-ms-request-id"] = request_id
    headers["x-ms-correlation-request-id"] = request.headers.get("x-ms-correlation-request-id", request_id)
    headers["x-ms-routing-request-id"] = f"SANDBOX:{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}:{request_id}"
    client_id = request.headers.get("x-ms-client-request-id")
    if client_id:
        headers["x-ms-client-request-id"] = client_id
    headers.setdefault("cache-control", "no-cache")
    headers.setdefault("pragma", "no-cache")
    headers.setdefault("expires", "-1")
    headers["content-length"] = str(len(response.body))
    raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": response.status, "headers": raw_headers})
    body = b"" if request.method == "HEAD" else response.body
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def drop_connection(send: Send) -> None:
    """Close the socket without answering (``status: 0`` fault).

    ASGI has no way to say "no response"; uvicorn's send callable is a bound method of the request
    cycle, which holds the transport. Aborting it resets the TCP connection, which the SDK sees as a
    connection error and retries. Waiting for uvicorn to notice the disconnect keeps it from sending
    its own 500.
    """
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        log.warning("cannot drop the connection with this server; answering 503 instead")
        response = error_response(503, "ServiceUnavailable", "Injected connection drop (unsupported server).")
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": response.body, "more_body": False})
        return
    transport.abort()
    for _ in range(100):
        if getattr(cycle, "disconnected", True):
            return
        await asyncio.sleep(0.001)


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
