"""HTTP transport options shared by the Azure SDK clients (Table, Queue, ARM).

``requests`` looks up proxy and CA-bundle variables in the environment on every request
(``Session.merge_environment_settings``): about 6% of the functions host's CPU per create, measured with
py-spy (docs/performance.md). In Azure Functions the environment cannot change under a running app
(changing an app setting restarts it), so it is read once, here: with no proxy configured the clients are
told not to read it again (``use_env_settings=False``), and a CA bundle named by ``REQUESTS_CA_BUNDLE`` or
``CURL_CA_BUNDLE`` is passed explicitly, as ``requests`` would have used it. With a proxy configured nothing
changes: ``requests`` keeps honouring ``NO_PROXY`` per host.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any


def transport_options(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    if _proxies(env):
        return {}
    bundle = env.get("REQUESTS_CA_BUNDLE") or env.get("CURL_CA_BUNDLE")
    return {"use_env_settings": False, **({"connection_verify": bundle} if bundle else {})}


def _proxies(env: Mapping[str, str]) -> bool:
    """Whether any ``*_proxy`` variable (``HTTPS_PROXY``, ``http_proxy``, ``ALL_PROXY``...) is set."""
    return any(key.lower().endswith("_proxy") and key.lower() != "no_proxy" and value for key, value in env.items())
