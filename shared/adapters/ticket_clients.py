"""Writing to tickets: Jira Cloud REST v3 and the ServiceNow Table API (the TicketClient port).

- Jira: ``POST /rest/api/3/issue/{key}/comment`` with an ADF document body; the final transition by name,
  resolved at call time through ``GET /rest/api/3/issue/{key}/transitions`` (ids differ per workflow and
  status), then ``POST .../transitions`` ``{"transition": {"id": ...}}`` (204).
- ServiceNow: ``PATCH /api/now/table/{table}/{sys_id}`` with ``work_notes`` (a journal field: each write
  appends an entry), and ``state`` on the final outcome.

Credentials: Jira email + API token (basic) or an OAuth bearer token (no email); ServiceNow user +
password (basic) or a bearer token (no user). They go into the Authorization header only: never into a
log line or an error. Errors leave as regctl's: 408, 429 and 5xx and no answer are ``TransientError``
(``retry_after`` from ``Retry-After``), anything else ``PermanentError``.
"""

from __future__ import annotations

import base64
import json
import logging
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import quote

from shared.domain.errors import PermanentError, TransientError
from shared.domain.tickets import TicketRef

log = logging.getLogger(__name__)
TIMEOUT_SECONDS = 10.0


def authorization(user: str | None, secret: str) -> str:
    if user:
        return "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")
    return f"Bearer {secret}"


def retry_after(value: str | None) -> float | None:
    """Seconds of a ``Retry-After`` header (delta-seconds; an HTTP date counts as unknown)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        return None


class JsonHttp:
    """JSON over HTTP(S) with urllib: no redirects followed into other hosts' credentials, no proxies."""

    def __init__(self, base_url: str, authorization_header: str, name: str) -> None:
        self._base = base_url.rstrip("/")
        self._auth = authorization_header
        self._name = name
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def __repr__(self) -> str:  # never shows the credential
        return f"JsonHttp({self._name}, {self._base})"

    def request(self, method: str, path: str, body: object | None = None) -> Any:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        url = self._base + path
        if not url.startswith(("https://", "http://")):
            raise PermanentError(f"{self._name} is not an http(s) URL", code="InvalidTicketUrl")
        request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - http(s) checked above
        request.add_header("Authorization", self._auth)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=TIMEOUT_SECONDS) as response:
                text = response.read()
        except urllib.error.HTTPError as exc:
            status = exc.code
            wait = retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            exc.close()
            log.info("%s %s %s answered %d", self._name, method, path.split("?", maxsplit=1)[0], status)
            if status in (408, 429) or status >= 500:
                text = f"{self._name} answered {status}"
                raise TransientError(text, code=f"Http{status}", retry_after=wait) from None
            raise PermanentError(f"{self._name} answered {status} to {method}", code=f"Http{status}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise TransientError(f"{self._name} did not answer: {type(exc).__name__}", code="NoAnswer") from None
        return json.loads(text) if text else None


def adf(text: str) -> dict[str, Any]:
    """An Atlassian Document Format document: one paragraph per line of ``text``."""
    paragraphs = [
        {"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in text.splitlines() if line.strip()
    ]
    return {"type": "doc", "version": 1, "content": paragraphs}


class JiraClient:
    def __init__(self, http: JsonHttp, done_status: str, failed_status: str) -> None:
        self._http = http
        self._done = done_status
        self._failed = failed_status

    def comment(self, ref: TicketRef, text: str) -> None:
        self._http.request("POST", f"/rest/api/3/issue/{quote(ref.key)}/comment", {"body": adf(text)})

    def finish(self, ref: TicketRef, succeeded: bool) -> None:
        wanted = (self._done if succeeded else self._failed).lower()
        path = f"/rest/api/3/issue/{quote(ref.key)}/transitions"
        listed = self._http.request("GET", path) or {}
        for transition in listed.get("transitions", []):
            target = str((transition.get("to") or {}).get("name", ""))
            if wanted in (str(transition.get("name", "")).lower(), target.lower()):
                self._http.request("POST", path, {"transition": {"id": str(transition["id"])}})
                return
        issue = self._http.request("GET", f"/rest/api/3/issue/{quote(ref.key)}?fields=status") or {}
        status = str(((issue.get("fields") or {}).get("status") or {}).get("name", ""))
        if status.lower() != wanted:
            raise PermanentError(f"no transition to {wanted} from {status}", code="TransitionNotAvailable")


class ServiceNowClient:
    def __init__(self, http: JsonHttp, done_state: str, failed_state: str) -> None:
        self._http = http
        self._done = done_state
        self._failed = failed_state

    def _path(self, ref: TicketRef) -> str:
        return f"/api/now/table/{quote(ref.table)}/{quote(ref.key)}?sysparm_fields=sys_id"

    def comment(self, ref: TicketRef, text: str) -> None:
        self._http.request("PATCH", self._path(ref), {"work_notes": text})

    def finish(self, ref: TicketRef, succeeded: bool) -> None:
        self._http.request("PATCH", self._path(ref), {"state": self._done if succeeded else self._failed})
