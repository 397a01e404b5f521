"""The ticketing simulator's HTTP surface (Starlette): the Jira Cloud REST v3 subset and the ServiceNow Table
API subset regctl writes back through, with their error bodies, and the ``/_sandbox/`` control surface
that creates and edits tickets (firing webhooks) and injects faults."""

from __future__ import annotations

import base64
import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.tickets.state import STATUSES, Faults, Tickets

Handler = Callable[[Request], Awaitable[Response]]

JIRA_NOT_FOUND = {"errorMessages": ["Issue does not exist or you do not have permission to see it."], "errors": {}}
JIRA_UNAUTHORIZED = {"errorMessages": ["Client must be authenticated to access this resource."], "errors": {}}
SN_UNAUTHORIZED = {
    "error": {"message": "User Not Authenticated", "detail": "Required to provide Auth information"},
    "status": "failure",
}
SN_NOT_FOUND = {
    "error": {"message": "No Record found", "detail": "Record doesn't exist or ACL restricts the record retrieval"},
    "status": "failure",
}
FIELDS = [
    {"id": "summary", "name": "Summary", "custom": False, "schema": {"type": "string", "system": "summary"}},
    {"id": "description", "name": "Description", "custom": False, "schema": {"type": "string"}},
    {"id": "labels", "name": "Labels", "custom": False, "schema": {"type": "array", "items": "string"}},
    {"id": "customfield_10100", "name": "Registry", "custom": True, "schema": {"type": "string", "customId": 10100}},
]


def _basic_ok(request: Request, user: str, secret: str) -> bool:
    expected = "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()
    return hmac.compare_digest(request.headers.get("authorization", "").encode(), expected.encode())


def _valid_adf(body: object) -> bool:
    return (
        isinstance(body, dict)
        and body.get("type") == "doc"
        and body.get("version") == 1
        and isinstance(body.get("content"), list)
        and all(isinstance(node, dict) and "type" in node for node in body["content"])
    )


async def _json(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _issue_of(tickets: Tickets, request: Request) -> Any:
    key = request.path_params["key"]
    return tickets.issues.get(key) or next((i for i in tickets.issues.values() if i.id == key), None)


def _rest_routes(tickets: Tickets, credentials: dict[str, tuple[str, str]]) -> list[Route]:
    faults = tickets.deliver

    def api(source: str, handler: Handler) -> Handler:
        """Authentication and the outage fault of a REST API route."""

        async def guarded(request: Request) -> Response:
            state = faults.faults
            if state.api_down:
                headers = {"Retry-After": "1"} if state.api_status == 429 else {}
                return JSONResponse({"errorMessages": ["Service unavailable"]}, state.api_status, headers=headers)
            user, secret = credentials[source]
            if not _basic_ok(request, user, secret):
                return JSONResponse(JIRA_UNAUTHORIZED if source == "jira" else SN_UNAUTHORIZED, 401)
            return await handler(request)

        return guarded

    def issue_of(request: Request) -> Any:
        return _issue_of(tickets, request)

    async def get_issue(request: Request) -> Response:
        issue = issue_of(request)
        if issue is None:
            return JSONResponse(JIRA_NOT_FOUND, 404)
        return JSONResponse(issue.document(tickets.base_url))

    async def get_fields(request: Request) -> Response:
        return JSONResponse(FIELDS)

    async def comments(request: Request) -> Response:
        issue = issue_of(request)
        if issue is None:
            return JSONResponse(JIRA_NOT_FOUND, 404)
        if request.method == "GET":
            found = issue.comments
            return JSONResponse({"startAt": 0, "maxResults": 5000, "total": len(found), "comments": found})
        body = await _json(request)
        if body is None or not _valid_adf(body.get("body")):
            return JSONResponse({"errorMessages": [], "errors": {"comment": "Comment body is not valid!"}}, 400)
        with tickets.lock:
            comment = {
                "id": str(10000 + len(issue.comments)),
                "body": body["body"],
                "author": {"displayName": "regctl"},
            }
            issue.comments.append(comment)
        return JSONResponse(comment, 201)

    async def transitions(request: Request) -> Response:
        issue = issue_of(request)
        if issue is None:
            return JSONResponse(JIRA_NOT_FOUND, 404)
        if request.method == "GET":
            return JSONResponse({"expand": "transitions", "transitions": tickets.transitions(issue)})
        body = await _json(request) or {}
        wanted = str((body.get("transition") or {}).get("id", ""))
        target = next((t["to"]["id"] for t in tickets.transitions(issue) if t["id"] == wanted), None)
        if target is None:
            message = f"Transition id '{wanted[:20]}' is not valid for this issue."
            return JSONResponse({"errorMessages": [message], "errors": {}}, 400)
        tickets.transition(issue, target)
        return Response(status_code=204)

    async def sn_record(request: Request) -> Response:
        record = tickets.records.get(request.path_params["sys_id"])
        if record is None or record.table != request.path_params["table"]:
            return JSONResponse(SN_NOT_FOUND, 404)
        if request.method == "PATCH":
            body = await _json(request)
            if body is None:
                return JSONResponse({"error": {"message": "Exception while reading request"}, "status": "failure"}, 400)
            tickets.update_record(record, body)
        return JSONResponse({"result": record.document()})

    issue_path = "/rest/api/3/issue/{key}"
    return [
        Route(issue_path, api("jira", get_issue), methods=["GET"]),
        Route("/rest/api/3/field", api("jira", get_fields), methods=["GET"]),
        Route(issue_path + "/comment", api("jira", comments), methods=["GET", "POST"]),
        Route(issue_path + "/transitions", api("jira", transitions), methods=["GET", "POST"]),
        Route("/api/now/table/{table}/{sys_id}", api("servicenow", sn_record), methods=["GET", "PATCH", "PUT"]),
    ]


def _control_routes(tickets: Tickets) -> list[Route]:
    faults = tickets.deliver

    def issue_of(request: Request) -> Any:
        return _issue_of(tickets, request)

    async def control_issues(request: Request) -> Response:
        body = await _json(request) or {}
        issue = tickets.create_issue(body)
        return JSONResponse({"key": issue.key, "id": issue.id}, 201)

    async def control_issue(request: Request) -> Response:
        issue = issue_of(request)
        if issue is None:
            return JSONResponse(JIRA_NOT_FOUND, 404)
        if request.method == "PUT":
            tickets.edit_issue(issue, await _json(request) or {})
        return JSONResponse({**issue.document(tickets.base_url), "comments": issue.comments})

    async def control_transition(request: Request) -> Response:
        issue = issue_of(request)
        if issue is None:
            return JSONResponse(JIRA_NOT_FOUND, 404)
        wanted = str((await _json(request) or {}).get("to", ""))
        status = next((sid for sid, name in STATUSES.items() if name.lower() == wanted.lower()), None)
        if status is None:
            return JSONResponse({"error": f"no status {wanted[:40]}; one of {list(STATUSES.values())}"}, 400)
        tickets.transition(issue, status)
        return JSONResponse({"key": issue.key, "status": STATUSES[status]})

    async def control_records(request: Request) -> Response:
        record = tickets.create_record(await _json(request) or {})
        return JSONResponse({**record.document(), "journal": record.journal}, 201)

    async def control_record(request: Request) -> Response:
        record = tickets.records.get(request.path_params["sys_id"])
        if record is None:
            return JSONResponse(SN_NOT_FOUND, 404)
        if request.method == "PATCH":
            tickets.update_record(record, await _json(request) or {})
        return JSONResponse({**record.document(), "journal": record.journal})

    async def control_faults(request: Request) -> Response:
        if request.method == "DELETE":
            faults.faults = Faults()
        elif request.method == "POST":
            body = await _json(request) or {}
            known = {k: v for k, v in body.items() if k in Faults.__dataclass_fields__}
            faults.faults = Faults(**{**faults.faults.__dict__, **known})
        return JSONResponse(faults.faults.__dict__)

    async def control_deliveries(request: Request) -> Response:
        if request.method == "DELETE":
            faults.log.clear()
        return JSONResponse({"deliveries": list(faults.log), "held": len(faults.held)})

    async def control_release(request: Request) -> Response:
        body = await _json(request) or {}
        return JSONResponse({"released": faults.release(reverse=body.get("order") == "reverse")})

    return [
        Route("/_sandbox/jira/issues", control_issues, methods=["POST"]),
        Route("/_sandbox/jira/issues/{key}", control_issue, methods=["GET", "PUT"]),
        Route("/_sandbox/jira/issues/{key}/transition", control_transition, methods=["POST"]),
        Route("/_sandbox/servicenow/records", control_records, methods=["POST"]),
        Route("/_sandbox/servicenow/records/{sys_id}", control_record, methods=["GET", "PATCH"]),
        Route("/_sandbox/faults", control_faults, methods=["GET", "POST", "DELETE"]),
        Route("/_sandbox/deliveries", control_deliveries, methods=["GET", "DELETE"]),
        Route("/_sandbox/deliveries/release", control_release, methods=["POST"]),
    ]


def create_app(tickets: Tickets, credentials: dict[str, tuple[str, str]]) -> Starlette:
    return Starlette(routes=[*_rest_routes(tickets, credentials), *_control_routes(tickets)])
