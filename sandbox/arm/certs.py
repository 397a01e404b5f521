"""A throwaway CA and a leaf certificate for 127.0.0.1/localhost, made fresh at every start.

The SDK's bearer-token policy refuses plain http, so the simulator speaks HTTPS. Clients trust it
through the CA bundle written to ``$SANDBOX_DIR`` (``connection_verify=`` for the Azure SDKs,
``verify=`` for requests with ``trust_env = False``). The leaf key lives in a private temporary
directory only until the server has loaded it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import trustme

CA_BUNDLE_NAME = "arm-ca.pem"


@dataclass(frozen=True)
class ServerCerts:
    ca_bundle: Path
    cert_chain: Path
    key: Path
    key_dir: Path

    def forget_key(self) -> None:
        """Delete the leaf key and its directory once the TLS context holds it."""
        for path in (self.key, self.cert_chain):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            self.key_dir.rmdir()


def make_certs(
    sandbox_dir: Path,
    hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "::1"),
    *,
    bundle_name: str = CA_BUNDLE_NAME,
    organization: str = "regctl sandbox ARM simulator",
) -> ServerCerts:
    """A new CA (its bundle at ``sandbox_dir/bundle_name``) and a leaf for ``hosts`` signed by it."""
    sandbox_dir.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name=organization)
    leaf = ca.issue_cert(*hosts)
    ca_bundle = sandbox_dir / bundle_name
    tmp_bundle = ca_bundle.with_suffix(f".{os.getpid()}.tmp")
    ca.cert_pem.write_to_path(str(tmp_bundle))
    os.replace(tmp_bundle, ca_bundle)
    key_dir = Path(tempfile.mkdtemp(prefix="arm-tls-"))
    key = key_dir / "key.pem"
    chain = key_dir / "chain.pem"
    leaf.private_key_pem.write_to_path(str(key))
    key.chmod(0o600)
    for i, blob in enumerate(leaf.cert_chain_pems):
        blob.write_to_path(str(chain), append=i > 0)
    return ServerCerts(ca_bundle=ca_bundle.resolve(), cert_chain=chain, key=key, key_dir=key_dir)
