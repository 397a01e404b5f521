"""The SDK clients' transport: requests without its per-request merging, the environment read once, and
the same request on the wire as the SDK's own transport sends."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import requests
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest

from shared.adapters.transport import DirectSession, transport_options


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every request 200 with a small JSON body (or a 302 for /moved) and records what it got."""

    seen: ClassVar[list[dict[str, Any]]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append({"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body})
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "affinity=1; Path=/")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Recorder.seen = []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def _send(transport: RequestsTransport, request: HttpRequest) -> Any:
    with transport:
        response = transport.send(request)
        response.read()
        return response


def test_without_a_proxy_each_client_gets_a_transport_of_its_own_over_a_direct_session():
    first = transport_options({"PATH": "/usr/bin", "NO_PROXY": "localhost"})
    second = transport_options({"PATH": "/usr/bin"})
    assert set(first) == {"transport"} and isinstance(first["transport"], RequestsTransport)
    assert first["transport"] is not second["transport"]
    assert isinstance(first["transport"].session, DirectSession)
    assert first["transport"].connection_config.verify is True


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_a_ca_bundle_named_in_the_environment_is_the_one_verified_against(variable: str):
    transport = transport_options({variable: "/etc/ssl/corp.pem"})["transport"]
    assert transport.connection_config.verify == "/etc/ssl/corp.pem"


def test_a_pinned_ca_bundle_wins_over_the_environment_with_or_without_a_proxy():
    pinned = transport_options({"REQUESTS_CA_BUNDLE": "/etc/ssl/corp.pem"}, ca_bundle="/sandbox/ca.pem")
    assert pinned["transport"].connection_config.verify == "/sandbox/ca.pem"
    assert transport_options({"HTTPS_PROXY": "http://proxy:3128"}, ca_bundle="/sandbox/ca.pem") == {
        "connection_verify": "/sandbox/ca.pem"
    }


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "http_proxy", "ALL_PROXY"])
def test_with_a_proxy_the_sdks_keep_their_own_transport(variable: str):
    assert transport_options({variable: "http://proxy:3128", "REQUESTS_CA_BUNDLE": "/etc/ssl/corp.pem"}) == {}


def test_the_direct_session_sends_what_the_sdk_transport_sends(server: str):
    body = b'{"PartitionKey": "p", "RowKey": "r"}'
    headers = {"Content-Type": "application/json", "x-ms-version": "2019-02-02", "Accept": "application/json"}
    direct = _send(
        transport_options({})["transport"], HttpRequest("PUT", f"{server}/t?x=1", headers=headers, content=body)
    )
    default = _send(RequestsTransport(), HttpRequest("PUT", f"{server}/t?x=1", headers=headers, content=body))
    first, second = _Recorder.seen
    assert (first["method"], first["path"], first["body"]) == (second["method"], second["path"], second["body"])
    assert first["headers"] == second["headers"]
    assert direct.status_code == default.status_code == 200
    assert direct.json() == default.json() == {"ok": True}
    assert direct.headers["Content-Type"] == "application/json"


def test_the_direct_session_keeps_no_cookies_and_follows_no_redirect(server: str):
    transport = transport_options({})["transport"]
    with transport:
        first = transport.send(HttpRequest("GET", f"{server}/a"))
        first.read()
        moved = transport.send(HttpRequest("GET", f"{server}/moved"))
        moved.read()
        second = transport.send(HttpRequest("GET", f"{server}/b"))
        second.read()
    assert "Cookie" not in _Recorder.seen[2]["headers"]
    assert moved.status_code == 302 and moved.headers["Location"] == "/elsewhere"
    assert [seen["path"] for seen in _Recorder.seen] == ["/a", "/moved", "/b"]


def test_the_direct_session_refuses_to_follow_redirects_itself(server: str):
    with DirectSession() as session, pytest.raises(ValueError, match="RedirectPolicy"):
        session.request("GET", f"{server}/a")


def test_the_direct_session_streams_when_asked(server: str):
    with DirectSession() as session:
        response = session.request("GET", f"{server}/a", allow_redirects=False, stream=True)
        assert isinstance(response, requests.Response)
        assert response.raw.read() == b'{"ok": true}'  # still on the wire: not read by the session
