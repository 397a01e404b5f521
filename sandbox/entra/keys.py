"""The token-signing key: an RSA key with a self-signed certificate, published as a JWKS.

As in Entra, the JWK carries the certificate (``x5c``) and its SHA-1 thumbprint (``x5t``), and ``kid``
is that thumbprint. The server makes a new key at every start and writes key and certificate to one PEM
file, readable by its owner only, so that ``python -m sandbox token`` (another process) signs with it.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

_KEY_SIZE = 2048
_CERT_DAYS = 365


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _uint(value: int) -> str:
    return b64url(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def kid(self) -> str:
        return self.x5t

    @property
    def x5t(self) -> str:
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return b64url(hashlib.sha1(der).digest())  # x5t is defined as the SHA-1 thumbprint

    def jwk(self, issuer: str) -> dict[str, Any]:
        """The public key as Entra's v2 JWKS lists it (``issuer`` is Entra's extension)."""
        numbers = self.private_key.public_key().public_numbers()
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.x5t,
            "n": _uint(numbers.n),
            "e": _uint(numbers.e),
            "x5c": [base64.b64encode(der).decode("ascii")],
            "issuer": issuer,
        }

    def jwks(self, issuer: str) -> dict[str, Any]:
        return {"keys": [self.jwk(issuer)]}

    def pem(self) -> bytes:
        key = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return key + self.certificate.public_bytes(serialization.Encoding.PEM)


def generate(subject: str = "regctl sandbox token signing") -> SigningKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=_KEY_SIZE)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=_CERT_DAYS))
        .sign(key, hashes.SHA256())
    )
    return SigningKey(key, certificate)


def save(signing_key: SigningKey, path: Path) -> None:
    """Write key and certificate atomically, mode 0600 from the first byte."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(signing_key.pem())
    os.replace(tmp, path)


def load(path: Path) -> SigningKey:
    data = path.read_bytes()
    key = serialization.load_pem_private_key(_block(data, b"PRIVATE KEY"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{path} does not hold an RSA key")
    return SigningKey(key, x509.load_pem_x509_certificate(_block(data, b"CERTIFICATE")))


def _block(data: bytes, label: bytes) -> bytes:
    begin, end = b"-----BEGIN " + label + b"-----", b"-----END " + label + b"-----"
    start = data.find(begin)
    stop = data.find(end, start)
    if start < 0 or stop < 0:
        raise ValueError(f"no {label.decode()} block in the signing key file")
    return data[start : stop + len(end)] + b"\n"
