"""Loading untrusted YAML and JSON documents into plain Python data.

Input is treated as hostile:
- a size cap (``MAX_DOCUMENT_BYTES``) checked before parsing;
- PyYAML's safe loader only, with caps on aliases, nodes and nesting depth counted before anything is
  expanded, so an alias bomb is refused: on libyaml's event stream (``_check_events``) when PyYAML has
  libyaml (its wheels do; about five times faster), else while the pure-Python loader composes;
- duplicate mapping keys are refused (PyYAML and ``json`` would silently keep the last one);
- a document that is not a mapping is refused;
- error messages quote at most a short excerpt of the input, never the input itself.
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, NodeEvent
from yaml.nodes import MappingNode, Node
from yaml.reader import ReaderError

from shared.domain.errors import FieldError, InvalidSpec

MAX_DOCUMENT_BYTES = 64 * 1024
"""A registry spec is a few hundred bytes; 64 KiB leaves room for long tag lists and comments."""
MAX_REGISTRATION_BYTES = 4 * 1024 * 1024
"""An asset registration in JSON lists its files (at most 10,000 of path, size and MD5): 4 MiB holds them."""
MAX_ALIASES = 32
MAX_DEPTH = 16
MAX_NODES = 5_000


def shorten(value: object, limit: int = 40) -> str:
    """A printable excerpt of ``value`` for error messages."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


class _Guards(yaml.constructor.SafeConstructor):
    """Construction guards shared by both loaders: duplicate keys refused, unbuildable values reported with
    their position."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        # A scalar that matches an implicit tag but cannot be built (an integer over Python's 4300-digit
        # limit, a date such as 2001-13-45) raises ValueError; report it with its position instead.
        # PyYAML's constructors also fail with IndexError, KeyError or AttributeError on an explicit tag
        # whose value is not of its kind (`!!int`, `!!float ''`, `!!bool`, `!!timestamp x`): the same
        # problem, which escaped as a 500 from the API (found by tests/fuzz).
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError) as exc:
            problem = f"cannot read this value: {shorten(exc, 80)}"
            raise ConstructorError(None, None, problem, node.start_mark) from None
        except (IndexError, KeyError, AttributeError):
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            raise ConstructorError(None, None, f"this value is not a {shorten(tag)}", node.start_mark) from None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        if not isinstance(node, MappingNode):  # `!!set [1]`, `!!map [1]`: the base class reports it
            return super().construct_mapping(node, deep=deep)
        seen: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` merge keys are flattened by the base class
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:  # unhashable key; the base class reports it
                break
            if duplicate:
                mark = key_node.start_mark
                raise _Refused(f"duplicate key {shorten(key)!r} at line {mark.line + 1}, column {mark.column + 1}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


class _GuardedLoader(_Guards, yaml.SafeLoader):
    """The pure-Python loader (when PyYAML has no libyaml): counts aliases, nodes and depth while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise _Refused(f"the document uses more than {MAX_ALIASES} YAML aliases")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Refused(f"the document has more than {MAX_NODES} YAML nodes")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(f"the document nests deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


if yaml.__with_libyaml__:

    class _FastLoader(_Guards, yaml.CSafeLoader):
        """libyaml scans, parses and composes (in C); construction is PyYAML's, with the guards. Only used on
        a document whose event stream ``_check_events`` accepted: libyaml's composer recurses."""


def _check_events(source: str) -> None:
    """The alias, node and depth caps, counted on libyaml's event stream (an iterative parser: nothing is
    composed or expanded yet). The same counts as ``_GuardedLoader.compose_node`` makes."""
    parser = yaml.CSafeLoader(source)
    aliases = nodes = collections = 0
    try:
        while (event := parser.get_event()) is not None:
            if isinstance(event, CollectionEndEvent):
                collections -= 1
                continue
            if not isinstance(event, NodeEvent):
                continue
            nodes += 1
            if isinstance(event, AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise _Refused(f"the document uses more than {MAX_ALIASES} YAML aliases")
            if nodes > MAX_NODES:
                raise _Refused(f"the document has more than {MAX_NODES} YAML nodes")
            if collections + 1 > MAX_DEPTH:
                raise _Refused(f"the document nests deeper than {MAX_DEPTH} levels")
            if isinstance(event, CollectionStartEvent):
                collections += 1
    finally:
        parser.dispose()


class _Refused(Exception):
    """Raised inside the loader; turned into ``InvalidSpec`` by ``load_document``."""


def _check_size(text: str | bytes, limit: int = MAX_DOCUMENT_BYTES) -> str:
    raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if len(raw) > limit:
        raise InvalidSpec(
            f"the document is {len(raw)} bytes; the limit is {limit} bytes",
            code="DocumentTooLarge",
        )
    if isinstance(text, str):
        return text
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidSpec(f"the document is not UTF-8 (byte {exc.start})", code="InvalidDocument") from None


def load_yaml(text: str | bytes) -> dict[str, Any]:
    """Parse one YAML document into a mapping, or raise ``InvalidSpec`` with line and column."""
    source = _check_size(text)
    loader: yaml.SafeLoader | yaml.CSafeLoader | None = None
    try:
        yaml.reader.Reader(source)  # refuses unprintable characters, with Python's positions
        if yaml.__with_libyaml__:
            _check_events(source)
            loader = _FastLoader(source)
        else:
            loader = _GuardedLoader(source)
        data = loader.get_single_data()
    except ReaderError as exc:
        raise InvalidSpec(_unprintable(source, exc), code="InvalidYaml") from None
    except _Refused as exc:
        raise InvalidSpec(f"refused YAML: {exc}", code="InvalidYaml") from None
    except yaml.MarkedYAMLError as exc:
        raise InvalidSpec(_syntax_error(exc), code="InvalidYaml") from None
    except yaml.YAMLError as exc:
        raise InvalidSpec(f"invalid YAML: {shorten(exc, 120)}", code="InvalidYaml") from None
    finally:
        if loader is not None:
            loader.dispose()
    return _require_mapping(data)


def _syntax_error(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"invalid YAML{where}: {shorten(exc.problem or exc.context or 'syntax error', 120)}"


def _unprintable(source: str, exc: ReaderError) -> str:
    line = source.count("\n", 0, exc.position) + 1
    column = exc.position - (source.rfind("\n", 0, exc.position) + 1) + 1
    shown = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
    return f"invalid YAML at line {line}, column {column}: character {shown} is not allowed in YAML"


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise _Refused(f"duplicate key {shorten(key)!r}")
        obj[key] = value
    return obj


def load_json(text: str | bytes, limit: int = MAX_DOCUMENT_BYTES) -> dict[str, Any]:
    """Parse a JSON document (at most ``limit`` bytes) into a mapping, or raise ``InvalidSpec`` with line
    and column."""
    source = _check_size(text, limit)
    try:
        data = json.loads(source, object_pairs_hook=_json_object)
    except json.JSONDecodeError as exc:
        raise InvalidSpec(
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", code="InvalidJson"
        ) from None
    except _Refused as exc:
        raise InvalidSpec(f"refused JSON: {exc}", code="InvalidJson") from None
    except RecursionError:
        raise InvalidSpec("refused JSON: nested too deeply", code="InvalidJson") from None
    except ValueError as exc:  # e.g. an integer over Python's 4300-digit conversion limit
        raise InvalidSpec(f"invalid JSON: {shorten(exc, 80)}", code="InvalidJson") from None
    return _require_mapping(data)


def _require_mapping(data: object) -> dict[str, Any]:
    if not isinstance(data, dict):
        kind = "an empty document" if data is None else f"a {type(data).__name__}"
        raise InvalidSpec(
            f"the document must be a mapping of registry fields (name, location, ...), got {kind}",
            [FieldError("", "expected a mapping at the top level")],
            code="InvalidDocument",
        )
    bad = [k for k in data if not isinstance(k, str)]
    if bad:
        raise InvalidSpec(
            "every top-level key must be a string",
            [FieldError(shorten(k), "keys must be strings") for k in bad[:10]],
            code="InvalidDocument",
        )
    return data
