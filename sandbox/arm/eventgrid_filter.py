"""Whether Event Grid delivers an event to an event subscription: its ``filter``, as Azure applies it.

The rules of "Understand event filtering for Event Grid subscriptions" (Microsoft Learn, event-filtering.md):

- ``includedEventTypes``: the event's type is one of them (case-insensitive; absent or ``All``: any type).
- ``subjectBeginsWith`` / ``subjectEndsWith``: case-insensitive unless ``isSubjectCaseSensitive``.
- ``advancedFilters``: every filter must pass (AND); within one filter any value may match (OR). A filter's
  ``key`` is a path into the event: ``id``, ``topic``, ``subject``, ``eventType``, ``dataVersion`` or a
  ``data.`` path of any depth (``data.target.repository``, ``data.url``), its segments compared
  case-insensitively; the CloudEvents names ``source``, ``type`` and ``time`` name ``topic``, ``eventType``
  and ``eventTime``. The string operators are applied, case-insensitively as the doc says ("All string
  comparisons aren't case-sensitive"): ``StringBeginsWith``, ``StringNotBeginsWith``, ``StringEndsWith``,
  ``StringNotEndsWith``, ``StringContains``, ``StringNotContains``, ``StringIn``, ``StringNotIn``. A key the
  event lacks (or whose value is null or an object) fails every one of them but ``StringNotIn``, which passes,
  as the doc's note says. An array value is filtered element by element only with
  ``enableAdvancedFilteringOnArrays`` (otherwise it counts as absent). Numbers and booleans are compared as
  their JSON text (the doc's CloudEvents example filters a number with ``StringBeginsWith``; a choice here).
  Other operators (``Number*``, ``BoolEquals``, ``IsNullOrUndefined``, ``IsNotNull``) are kept, not applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.arm.eventgrid import EventSubscription

#: Operator -> (whether it is negated, how one event value matches one filter value; both lowercased).
_STRING_OPERATORS: dict[str, tuple[bool, Callable[[str, str], bool]]] = {
    "stringbeginswith": (False, str.startswith),
    "stringnotbeginswith": (True, str.startswith),
    "stringendswith": (False, str.endswith),
    "stringnotendswith": (True, str.endswith),
    "stringcontains": (False, str.__contains__),
    "stringnotcontains": (True, str.__contains__),
    "stringin": (False, str.__eq__),
    "stringnotin": (True, str.__eq__),
}
#: CloudEvents attribute names -> the Event Grid schema's.
_ALIASES = {"source": "topic", "type": "eventType", "time": "eventTime"}


def matches(subscription: EventSubscription, event: Mapping[str, Any]) -> bool:
    """Whether Event Grid delivers ``event`` (Event Grid schema) to ``subscription``."""
    flt = subscription.properties.get("filter", {})
    included = flt.get("includedEventTypes")
    event_type = str(event.get("eventType", "")).lower()
    if included and not {str(t).lower() for t in included} & {event_type, "all"}:
        return False
    if not _subject_passes(flt, str(event.get("subject", ""))):
        return False
    arrays = bool(flt.get("enableAdvancedFilteringOnArrays"))
    return all(_advanced_passes(rule, event, arrays) for rule in flt.get("advancedFilters") or [])


def _subject_passes(flt: Mapping[str, Any], subject: str) -> bool:
    sensitive = bool(flt.get("isSubjectCaseSensitive"))
    begins, ends = str(flt.get("subjectBeginsWith") or ""), str(flt.get("subjectEndsWith") or "")
    if not sensitive:
        subject, begins, ends = subject.lower(), begins.lower(), ends.lower()
    return subject.startswith(begins) and subject.endswith(ends)


def _advanced_passes(rule: object, event: Mapping[str, Any], arrays: bool) -> bool:
    if not isinstance(rule, dict):
        return True
    name = str(rule.get("operatorType", "")).lower()
    operator = _STRING_OPERATORS.get(name)
    if operator is None:
        return True  # not a string operator: kept, not applied
    negated, compare = operator
    wanted = [str(v).lower() for v in rule.get("values") or []]
    found = key_values(event, str(rule.get("key", "")), arrays=arrays)
    if found is None:
        return name == "stringnotin"
    hit = any(compare(value, v) for value in found for v in wanted)
    return hit != negated


def key_values(event: Mapping[str, Any], key: str, *, arrays: bool = False) -> list[str] | None:
    """The lowercased string values an advanced filter's ``key`` names in ``event``; ``None``: absent."""
    value: Any = event
    for index, segment in enumerate(key.split(".")):
        if not isinstance(value, Mapping):
            return None
        name = _ALIASES.get(segment.lower(), segment) if index == 0 else segment
        value = _get(value, name)
    if isinstance(value, list):
        if not arrays:
            return None
        texts = [_text(item) for item in value]
        return [t for t in texts if t is not None]
    text = _text(value)
    return None if text is None else [text]


def _get(mapping: Mapping[str, Any], name: str) -> Any:
    if name in mapping:
        return mapping[name]
    lowered = name.lower()
    return next((v for k, v in mapping.items() if str(k).lower() == lowered), None)


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.lower()
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return None
