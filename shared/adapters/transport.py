"""The HTTP transport of the Azure SDK clients (Table, Queue, ARM): ``requests``, minus its per-request work
that azure-core never needs.

azure-core hands ``requests.Session.request`` a complete request: every header, the body, the timeout, the
certificate check, no redirects (its own ``RedirectPolicy`` follows them), no retries (its ``RetryPolicy``
does). ``Session.request`` then still rebuilds it on every call: it merges the session's cookie jar,
headers, parameters, hooks and auth into a new request, reads proxy and CA-bundle variables from the
environment (``merge_environment_settings``), times the call and collects cookies from the answer. On the
functions host that was about 15% of the CPU of a create, measured with py-spy (docs/performance.md). In
Azure Functions the environment cannot change under a running app (changing an app setting restarts it),
so it is read once, here, and ``DirectSession`` sends the prepared request straight to its adapter.

With a proxy variable set nothing changes: the SDKs build their own transport and ``requests`` keeps
honouring ``NO_PROXY`` per host. Without one, a CA bundle named by ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` is used as ``requests`` would have used it, unless the caller pins one (``ca_bundle``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import requests
from azure.core.pipeline.transport import RequestsTransport
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

_NO_RETRIES = Retry(total=False, redirect=False, raise_on_status=False)
"""What azure-core mounts too: retries and redirects are its pipeline's business, not urllib3's."""


class DirectSession(requests.Session):
    """A ``requests.Session`` whose ``request`` prepares exactly what it is given and sends it.

    Of the session's own settings only its default headers are merged in (as ``requests`` does: the
    request's win); no cookies, parameters, hooks or auth, and the environment is not read: azure-core
    sets none of those on the session and passes everything per request. Redirects are never followed
    here (azure-core asks for none)."""

    def __init__(self) -> None:
        super().__init__()
        self.trust_env = False
        adapter = HTTPAdapter(max_retries=_NO_RETRIES)
        self.mount("https://", adapter)
        self.mount("http://", adapter)

    def request(  # type: ignore[override]  # noqa: PLR0917 (requests.Session.request, positional and all)
        self,
        method: str | bytes,
        url: str | bytes,
        params: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        cookies: Any = None,
        files: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = True,
        proxies: Mapping[str, str] | None = None,
        hooks: Any = None,
        stream: bool | None = None,
        verify: bool | str | None = None,
        cert: Any = None,
        json: Any = None,
    ) -> requests.Response:
        if allow_redirects:
            raise ValueError("DirectSession does not follow redirects: azure-core's RedirectPolicy does")
        merged = CaseInsensitiveDict(self.headers)  # requests' defaults (Accept-Encoding, Connection...)
        merged.update(headers or {})
        prepared = requests.PreparedRequest()
        prepared.prepare(
            method=method.decode() if isinstance(method, bytes) else method,
            url=url.decode() if isinstance(url, bytes) else url,
            headers=merged,
            files=files,
            data=data,
            params=params,
            auth=auth,
            cookies=cookies,
            hooks=hooks,
            json=json,
        )
        target = prepared.url or ""
        if verify is None or target.startswith("http://"):
            verify = True  # nothing to verify over plain HTTP: spares requests a stat() of the CA bundle
        response = self.get_adapter(target).send(
            prepared,
            stream=bool(stream),
            timeout=timeout,
            verify=verify,
            cert=cert,
            proxies=dict(proxies or {}),
        )
        if not stream:
            _ = response.content  # read the body now and give the connection back, as Session.send does
        return response


def transport_options(environ: Mapping[str, str] | None = None, *, ca_bundle: str | None = None) -> dict[str, Any]:
    """Keyword arguments for one SDK client: a transport of its own over a ``DirectSession``, or nothing
    (the SDK's default transport) when a proxy is configured. ``ca_bundle`` pins the CA to trust."""
    env = os.environ if environ is None else environ
    if _proxies(env):
        return {"connection_verify": ca_bundle} if ca_bundle else {}
    verify = ca_bundle or env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE") or True
    return {"transport": RequestsTransport(session=DirectSession(), session_owner=True, connection_verify=verify)}


def _proxies(env: Mapping[str, str]) -> bool:
    """Whether any ``*_proxy`` variable (``HTTPS_PROXY``, ``http_proxy``, ``ALL_PROXY``...) is set."""
    return any(key.lower().endswith("_proxy") and key.lower() != "no_proxy" and value for key, value in env.items())
