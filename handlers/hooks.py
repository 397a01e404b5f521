"""Ticketing webhooks (docs/tickets.md): ``POST /api/hooks/jira``, ``/api/hooks/servicenow``, ``/api/hooks/std``,
and ``GET /api/tickets/{source}/{key}``.

The hooks are authenticated by signature, not by a bearer token (``SIGNED_ROUTES`` of handlers/auth.py):
the raw body is read (over 256 KiB: 413), the signature checked against it with every active secret
(constant-time), and only then is it parsed. A delivery that is unsigned, wrongly signed or stale gets 401
and is stored nowhere: only ``REFUSED`` counts it. A signed delivery that is not its source's shape gets
400, nothing stored. The rest is one call of ``TicketService.receive``: a duplicate answers 200 with the
first answer, everything else 202 (ignored, pending, refused, or the operation started), never 409 (Jira
retries 409). Nothing here waits on ARM.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from handlers import openapi_docs as docs
from handlers import problems
from handlers.auth import Gate, authorize_route
from shared.bootstrap import container
from shared.domain.access import Principal
from shared.domain.errors import NotFound
from shared.domain.signatures import BadSignature, check_jira_freshness, verify_hub_signature, verify_standard
from shared.domain.tickets import SOURCES, MalformedPayload, TicketRecord
from shared.observability import context_log
from shared.services.tickets import TICKET_CALLER_PREFIX, Delivery, TicketService, ticket_link

log = logging.getLogger(__name__)

MAX_HOOK_BYTES = 256 * 1024
MAX_DELIVERY_ID = 200
HOOK_PROBLEMS = docs.problems(400, 413, 503)


class RefusedCounter:
    """Deliveries refused as unauthentic, by source and reason: the only trace they leave."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str]] = Counter()

    def add(self, source: str, reason: str) -> int:
        with self._lock:
            self.counts[(source, reason)] += 1
            return self.counts[(source, reason)]


REFUSED = RefusedCounter()


async def raw_body(request: Request) -> bytes | None:
    """The body, or None when it is over ``MAX_HOOK_BYTES`` (read no further)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_HOOK_BYTES:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_HOOK_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _refused(source: str, exc: BadSignature) -> JSONResponse:
    count = REFUSED.add(source, exc.reason)
    context_log(log, step=f"hook {source}").warning("delivery refused: %s (%d so far)", exc.reason, count)
    return problems.problem(401, "InvalidSignature", f"the delivery is not signed validly ({exc.reason})")


def _payload(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise MalformedPayload("the body is not JSON") from None


def ticket_document(record: TicketRecord) -> dict[str, Any]:
    return {
        "source": record.source,
        "key": record.key,
        "display": record.display,
        "table": record.table or None,
        "status": record.status.value,
        "principalId": record.principal_id,
        "request": record.request,
        "message": record.message,
        "operations": [
            {"action": action, "operation": f"/api/operations/{op}" if op not in ("", "-") else None}
            for action, op in record.operations.items()
        ],
        "reportedRegions": record.reported_regions,
        "createdAt": record.created_at.isoformat(),
        "updatedAt": record.updated_at.isoformat(),
    }


def operation_ticket(
    caller: Principal | None, operation_id: str, tickets: Callable[[], TicketService] | None
) -> dict[str, str] | None:
    """The ticket an operation came from (``{source, key, display, url}``), or None. Only operations requested
    by a ticket's principal (named ``ticket {source} {display}``) are looked up: one read, no more."""
    if caller is None or caller.type != "ServicePrincipal" or not caller.name.startswith(TICKET_CALLER_PREFIX):
        return None
    ref = (tickets or (lambda: container().tickets))().ticket_of(operation_id)
    if ref is None:
        return None
    return {"source": ref.source, "key": ref.key, "display": ref.display, "url": ticket_link(ref)}


def hooks_router(
    tickets: Callable[[], TicketService] | None = None,
    secrets: Callable[[str], list[str]] | None = None,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    service = tickets or (lambda: container().tickets)

    parsed: dict[str, list[str]] = {}

    def configured(source: str) -> list[str]:
        """The source's secrets, parsed once (settings are read once per process)."""
        if source not in parsed:
            parsed[source] = container().settings.webhook_secrets(source)
        return parsed[source]

    active = secrets or configured
    router = APIRouter(prefix="/api/hooks")

    async def receive(source: str, delivery_id: str | None, body: bytes) -> JSONResponse:
        if not delivery_id or len(delivery_id) > MAX_DELIVERY_ID:
            return problems.problem(400, "InvalidDelivery", "the delivery id header is missing or too long")
        try:
            payload = _payload(body)
            if source == "jira":
                try:
                    check_jira_freshness(payload.get("timestamp") if isinstance(payload, dict) else None, clock())
                except BadSignature as exc:
                    return _refused(source, exc)
            result = await run_in_threadpool(service().receive, Delivery(source, delivery_id, payload))
        except MalformedPayload as exc:
            return problems.problem(400, "MalformedPayload", str(exc))
        return JSONResponse(result.body, status_code=result.status)

    @router.post("/jira", summary="A Jira Cloud webhook (X-Hub-Signature)", status_code=202, responses=HOOK_PROBLEMS)
    async def jira(request: Request) -> JSONResponse:
        body = await raw_body(request)
        if body is None:
            return problems.problem(413, "RequestTooLarge", f"the body is over {MAX_HOOK_BYTES} bytes")
        try:
            verify_hub_signature(active("jira"), body, request.headers.get("x-hub-signature"))
        except BadSignature as exc:
            return _refused("jira", exc)
        return await receive("jira", request.headers.get("x-atlassian-webhook-identifier"), body)

    async def standard(source: str, request: Request) -> JSONResponse:
        body = await raw_body(request)
        if body is None:
            return problems.problem(413, "RequestTooLarge", f"the body is over {MAX_HOOK_BYTES} bytes")
        headers = request.headers
        try:
            verify_standard(
                active(source),
                body,
                webhook_id=headers.get("webhook-id"),
                timestamp=headers.get("webhook-timestamp"),
                signature=headers.get("webhook-signature"),
                now=clock(),
            )
        except BadSignature as exc:
            return _refused(source, exc)
        return await receive(source, headers.get("webhook-id"), body)

    @router.post(
        "/servicenow",
        summary="A ServiceNow Business Rule webhook (Standard Webhooks)",
        status_code=202,
        responses=HOOK_PROBLEMS,
    )
    async def servicenow(request: Request) -> JSONResponse:
        return await standard("servicenow", request)

    @router.post("/std", summary="A Standard Webhooks 1.0 delivery", status_code=202, responses=HOOK_PROBLEMS)
    async def std(request: Request) -> JSONResponse:
        return await standard("std", request)

    return router


def tickets_router(gate: Gate, tickets: Callable[[], TicketService] | None = None) -> APIRouter:
    service = tickets or (lambda: container().tickets)
    router = APIRouter(prefix="/api", dependencies=[Depends(authorize_route(gate))])

    @router.get(
        "/tickets/{source}/{key}",
        summary="A ticket: its request, status and operations",
        responses=docs.problems(404, 422, 503),
    )
    def get_ticket(source: str, key: str) -> dict[str, Any]:
        record = service().ticket(source, key) if source in SOURCES else None
        if record is None:
            raise NotFound(f"ticket {source}/{key[:100]} not found", code="TicketNotFound")
        return ticket_document(record)

    return router
