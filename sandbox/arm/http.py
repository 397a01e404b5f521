"""A small request type over the raw ASGI scope, and LIST paging.

The simulator is a plain ASGI app rather than a framework app: it needs full control of the wire
(headers, empty bodies, dropping a connection) and has to stay fast (>= 1,000 GETs/s).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from sandbox.arm.envelope import ArmError, Response, invalid_request_content


@dataclass
class Request:
    method: str
    #: The path as sent (percent-encoded), without the query.
    raw_path: str
    #: The query string as sent (no leading ``?``), empty when absent.
    query_string: str
    headers: dict[str, str]
    body: bytes
    #: ``scheme://host[:port]`` the client used: Location and Azure-AsyncOperation are built from it.
    base_url: str
    query: dict[str, str] = field(init=False)
    segments: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.query = {}
        for key, value in parse_qsl(self.query_string, keep_blank_values=True):
            self.query.setdefault(key.lower(), value)
        # ARM paths are case-insensitive and tolerate doubled slashes (the SDK makes ``//`` for
        # scopes given with a leading slash).
        self.segments = [unquote(s) for s in self.raw_path.split("/") if s]

    @property
    def path_with_query(self) -> str:
        return f"{self.raw_path}?{self.query_string}" if self.query_string else self.raw_path

    @property
    def api_version(self) -> str:
        return self.query.get("api-version", "")

    def json_body(self, *, required: bool = True) -> dict[str, Any]:
        """The JSON object sent, or a 400 ``InvalidRequestContent`` like ARM answers."""
        if not self.body.strip():
            if required:
                raise invalid_request_content("the request body is empty")
            return {}
        try:
            parsed = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as err:
            raise invalid_request_content(str(err)) from err
        if not isinstance(parsed, dict):
            raise invalid_request_content("the request body must be a JSON object")
        return parsed


def page(request: Request, items: list[dict[str, Any]], page_size: int) -> Response:
    """One page of a LIST as ``{"value": [...], "nextLink"?}``.

    The skip token is an offset into the current listing; the SDK follows ``nextLink`` verbatim
    (it only overwrites ``api-version``), so it must be absolute.
    """
    token = request.query.get("$skiptoken", "0")
    try:
        start = int(token)
    except ValueError as err:
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{token}' is not valid.") from err
    top = request.query.get("$top")
    if top is not None:
        try:
            limit = max(1, int(top))
        except ValueError as err:
            raise ArmError(400, "InvalidTopValue", f"The $top value '{top}' is not valid.") from err
        # $top caps the whole listing: one page, no nextLink.
        return Response.json(200, {"value": items[start : start + limit]})
    chunk = items[start : start + page_size]
    body: dict[str, Any] = {"value": chunk}
    if start + page_size < len(items):
        params = [f"api-version={quote(request.api_version)}", f"$skiptoken={start + page_size}"]
        if "$filter" in request.query:
            params.append(f"$filter={quote(request.query['$filter'], safe='')}")
        body["nextLink"] = f"{request.base_url}{request.raw_path}?{'&'.join(params)}"
    return Response.json(200, body)
