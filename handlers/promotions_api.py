"""Promotion routes: explicit promotions, promotion rules, the promotions and their approval, and the
events dead-lettered (docs/events.md).

Thin: parse, one service call, map. Each route's action is declared in ``handlers/auth.py``
(``promotion_route_actions``); the rights that depend on the body (the source registry of an explicit
promotion, both registries of a rule, the target of an approval) are checked by the service.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from handlers import openapi_docs as docs
from handlers.auth import Gate, authorize_route, caller
from handlers.bodies import read_document
from shared.domain.asset_spec import AssetType
from shared.domain.errors import FieldError, InvalidSpec
from shared.domain.promotions import Promotion
from shared.services.promotions import PromotionService


def promotion_document(p: Promotion) -> dict[str, Any]:
    def who(principal: Any) -> dict[str, str] | None:
        return {"id": principal.id, "name": principal.name, "type": principal.type} if principal else None

    doc: dict[str, Any] = {
        "id": p.id,
        "rule": p.rule,
        "source": p.source,
        "target": p.target,
        "status": p.status.value,
        "event": p.event_id or None,
        "requestedBy": who(p.requested_by),
        "decidedBy": who(p.decided_by),
        "operation": f"/api/operations/{p.operation_id}" if p.operation_id else None,
        "createdAt": p.created_at.isoformat(),
        "updatedAt": p.updated_at.isoformat(),
    }
    if p.error_code:
        doc["error"] = {"code": p.error_code, "message": p.error_message}
    return doc


def _answer(p: Promotion, status: int) -> Response:
    headers = {"Location": f"/api/promotions/{p.id}"}
    return JSONResponse(promotion_document(p), status_code=status, headers=headers)


def promotions_router(gate: Gate, service: Callable[[], PromotionService]) -> APIRouter:
    router = APIRouter(prefix="/api", dependencies=[Depends(authorize_route(gate))], tags=["promotions"])

    @router.post(
        "/registries/{name}/{asset_type}/{asset}/versions/{version}/promote",
        status_code=202,
        summary="Promote a version of another registry into this one (server-side copy)",
        responses=docs.problems(400, 403, 404, 409, 422, 503),
    )
    async def promote(name: str, asset_type: str, asset: str, version: str, request: Request) -> Response:
        body = await read_document(request, json_only=True)
        source = body.get("source")
        if not isinstance(source, str):
            raise InvalidSpec("give the source version's asset id", [FieldError("source", "azureml://registries/...")])
        kind = AssetType.parse(asset_type)
        who = caller(request)
        result = await run_in_threadpool(
            lambda: service().promote(name, kind, asset, version, source=source, caller=who)
        )
        return _answer(result, 200 if result.status.terminal else 202)

    @router.put(
        "/promotionRules/{rule}",
        summary="Create or replace a promotion rule",
        responses=docs.problems(403, 404, 422, 503),
    )
    async def put_rule(rule: str, request: Request) -> dict[str, Any]:
        document = await read_document(request)
        return (await run_in_threadpool(service().put_rule, rule, document, caller(request))).to_dict()

    @router.get("/promotionRules", summary="The promotion rules", responses=docs.problems(503))
    def list_rules() -> dict[str, Any]:
        return {"value": [r.to_dict() for r in service().list_rules()]}

    @router.get(
        "/promotionRules/{rule}", summary="A promotion rule and its last error", responses=docs.problems(404, 422, 503)
    )
    def get_rule(rule: str) -> dict[str, Any]:
        return service().get_rule(rule).to_dict()

    @router.delete(
        "/promotionRules/{rule}",
        status_code=204,
        summary="Delete a promotion rule",
        responses=docs.problems(403, 404, 422, 503),
    )
    def delete_rule(rule: str, request: Request) -> Response:
        service().delete_rule(rule, caller(request))
        return Response(status_code=204)

    @router.get(
        "/promotions",
        summary="Promotions, by rule and status: what happened and why",
        responses=docs.problems(422, 503),
    )
    def list_promotions(rule: str | None = Query(None), status: str | None = Query(None)) -> dict[str, Any]:
        return {"value": [promotion_document(p) for p in service().list_promotions(rule, status)]}

    @router.get("/promotions/{promotion_id}", summary="A promotion", responses=docs.problems(404, 422, 503))
    def get_promotion(promotion_id: str) -> dict[str, Any]:
        return promotion_document(service().get(promotion_id))

    @router.post(
        "/promotions/{promotion_id}/approve",
        summary="Approve a promotion waiting for approval",
        responses=docs.problems(403, 404, 409, 422, 503),
    )
    def approve(promotion_id: str, request: Request) -> Response:
        return _answer(service().decide(promotion_id, True, caller(request)), 200)

    @router.post(
        "/promotions/{promotion_id}/reject",
        summary="Reject a promotion waiting for approval",
        responses=docs.problems(403, 404, 409, 422, 503),
    )
    def reject(promotion_id: str, request: Request) -> Response:
        return _answer(service().decide(promotion_id, False, caller(request)), 200)

    @router.get(
        "/events/deadLetters", summary="Events that could not be used, with the reason", responses=docs.problems(503)
    )
    def dead_letters() -> dict[str, Any]:
        return {"value": service().dead_letters()}

    return router
