"""Reading a registry file (YAML, or JSON when the name ends in ``.json``; ``-`` is standard input).

Used by ``validate`` and by ``create``/``update``, which check the file offline with the same rules and
messages before sending anything.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from regctl.errors import UsageProblem
from shared.domain.documents import MAX_DOCUMENT_BYTES, load_json, load_yaml
from shared.domain.errors import InvalidSpec
from shared.domain.spec import ParsedSpec, parse_spec

YAML_MEDIA_TYPE = "application/yaml"
JSON_MEDIA_TYPE = "application/json"


@dataclass(frozen=True)
class SpecFile:
    """A registry file checked offline: the bytes to send as they are, their media type, and the parse."""

    data: bytes
    media_type: str
    parsed: ParsedSpec


def is_json(file: str) -> bool:
    return file.lower().endswith(".json")


def read_source(file: str) -> bytes:
    """The bytes of ``file`` (``-`` is standard input), read up to just over the document size cap."""
    limit = MAX_DOCUMENT_BYTES + 1
    if file == "-":
        return sys.stdin.buffer.read(limit)
    try:
        with Path(file).open("rb") as handle:
            return handle.read(limit)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise UsageProblem(f"cannot read {file!r}: {reason}") from None


def load_document(file: str, data: bytes) -> dict[str, object]:
    """Parse ``data`` read from ``file``; raises ``InvalidSpec`` for a bad or oversized document."""
    if len(data) > MAX_DOCUMENT_BYTES:  # read_source stops one byte past the cap: the real size is unknown
        raise InvalidSpec(
            f"the document is larger than the limit of {MAX_DOCUMENT_BYTES} bytes", code="DocumentTooLarge"
        )
    if is_json(file):
        return load_json(data)
    return load_yaml(data)


def load_source(file: str) -> dict[str, object]:
    """Read and parse ``file``; raises ``InvalidSpec`` for a bad document, ``UsageProblem`` if unreadable."""
    return load_document(file, read_source(file))


def read_spec(file: str) -> SpecFile:
    """Read ``file`` and validate it offline; raises ``InvalidSpec`` or ``UsageProblem``, sends nothing."""
    data = read_source(file)
    parsed = parse_spec(load_document(file, data))
    return SpecFile(data, JSON_MEDIA_TYPE if is_json(file) else YAML_MEDIA_TYPE, parsed)
