"""Runs the Entra stand-in in the foreground under uvicorn and advertises it in ``$SANDBOX_DIR/entra.json``.

At start: a new signing key (written to ``$SANDBOX_DIR/entra/signing-key.pem``, mode 0600), a new
client secret for the bootstrap service principal, and a TLS certificate for 127.0.0.1/localhost from
a throwaway CA whose bundle is ``$SANDBOX_DIR/entra-ca.pem``. The socket is bound first, so ``--port 0``
works and every URL names the real port. ``entra.json`` is written atomically once the server accepts
connections; a clean stop (SIGINT/SIGTERM) removes it and the signing key if they are still ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import trustme
import uvicorn

from sandbox.arm.certs import ServerCerts
from sandbox.arm.server import bind
from sandbox.entra import config, keys
from sandbox.entra.app import EntraStandIn
from sandbox.entra.directory import Directory
from sandbox.processes import remove_if_ours, write_json_atomically

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServerOptions:
    host: str
    port: int
    sandbox_dir: Path
    audiences: Sequence[str] = (config.DEFAULT_AUDIENCE,)


def make_certs(sandbox_dir: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")) -> ServerCerts:
    """As ``sandbox.arm.certs.make_certs``, with the stand-in's own CA and bundle name (see docs)."""
    ca = trustme.CA(organization_name="regctl sandbox Entra stand-in")
    leaf = ca.issue_cert(*hosts)
    bundle = sandbox_dir / config.CA_BUNDLE_NAME
    tmp = bundle.with_name(f".{bundle.name}.{os.getpid()}.tmp")
    ca.cert_pem.write_to_path(str(tmp))
    os.replace(tmp, bundle)
    key_dir = Path(tempfile.mkdtemp(prefix="entra-tls-"))
    key, chain = key_dir / "key.pem", key_dir / "chain.pem"
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    for i, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(str(chain), append=i > 0)
    return ServerCerts(ca_bundle=bundle.resolve(), cert_chain=chain, key=key, key_dir=key_dir)


def describe(stand_in: EntraStandIn, *, ca_bundle: Path, key_path: Path) -> dict[str, Any]:
    """``entra.json``; ``python -m sandbox up`` copies it into ``sandbox.json`` as ``identity``."""
    client = stand_in.directory.clients[config.CLIENT_ID]
    urls = stand_in.endpoints
    return {
        "endpoint": stand_in.base_url,
        "ca_bundle": str(ca_bundle),
        "tenant_id": stand_in.tenant_id,
        "issuer": urls.issuer,
        "openid_configuration": urls.openid_configuration,
        "jwks_uri": urls.jwks_uri,
        "token_endpoint": urls.token_endpoint,
        "authorization_endpoint": urls.authorization_endpoint,
        "audience": stand_in.tokens.audiences[0],
        "owner_principal_id": config.OWNER_PRINCIPAL_ID,
        "client": {"client_id": client.client_id, "client_secret": client.secret, "principal_id": client.object_id},
        "public_client_id": config.PUBLIC_CLIENT_ID,
        "signing_key": str(key_path),
        "pid": os.getpid(),
    }


def run(options: ServerOptions) -> int:
    """Serve until interrupted. Returns the process exit code."""
    sandbox_dir = options.sandbox_dir.resolve()
    sandbox_dir.mkdir(parents=True, exist_ok=True)
    sock = bind(options.host, options.port)
    port = sock.getsockname()[1]
    host = f"[{options.host}]" if ":" in options.host else options.host
    certs = make_certs(sandbox_dir)
    signing_key = keys.generate()
    key_path = config.signing_key_path(sandbox_dir)
    keys.save(signing_key, key_path)
    stand_in = EntraStandIn(
        base_url=f"https://{host}:{port}",
        signing_key=signing_key,
        directory=Directory.bootstrap(),
        audiences=options.audiences,
    )
    server = uvicorn.Server(
        uvicorn.Config(
            stand_in,
            ssl_certfile=str(certs.cert_chain),
            ssl_keyfile=str(certs.key),
            lifespan="off",
            access_log=False,
            server_header=False,
            proxy_headers=False,
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
    )
    info = describe(stand_in, ca_bundle=certs.ca_bundle, key_path=key_path)
    entra_json = sandbox_dir / config.ENTRA_JSON

    async def serve() -> None:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        certs.forget_key()
        if server.started:
            write_json_atomically(entra_json, info)
            log.info("Entra stand-in listening on %s (tenant %s)", info["endpoint"], info["tenant_id"])
        await task

    for sig in (signal.SIGINT, signal.SIGTERM):  # uvicorn re-raises them after shutting down: ignore then
        signal.signal(sig, _ignore_signal)
    try:
        with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
            runner.run(serve())
    finally:
        certs.forget_key()
        remove_if_ours(entra_json, info)
        with contextlib.suppress(OSError):
            if key_path.read_bytes() == signing_key.pem():
                key_path.unlink()
        sock.close()
    return 0 if server.started else 1


def _ignore_signal(signum: int, frame: FrameType | None) -> None:
    log.debug("signal %s after shutdown ignored", signum)
