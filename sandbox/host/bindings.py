"""Function discovery: what the Functions host indexes from ``app.get_functions()``, and nothing more.

The Python worker hands the host each function's ``function.json`` form (``Function.get_dict_repr()``);
the host resolves ``%SETTING%`` binding expressions against the app settings and refuses to index a
function whose expression does not resolve. This module does the same, from the environment, so a
missing app setting fails here exactly as it would fail in Azure, instead of at the first message.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sandbox.host.ncrontab import Schedule

logger = logging.getLogger(__name__)

SERVICE_BUS_TRIGGER = "serviceBusTrigger"
TIMER_TRIGGER = "timerTrigger"
HTTP_TRIGGER = "httpTrigger"


class IndexingError(Exception):
    """The app cannot be indexed: the host would refuse to start the function too."""


@dataclass(frozen=True)
class QueueFunction:
    """A ``service_bus_queue_trigger`` function, its binding expressions resolved. ``batch``: the trigger
    has ``cardinality: many``, so the function gets a list of messages (up to ``maxMessageBatchSize``)."""

    name: str
    arg_name: str
    queue: str
    connection: str
    target: Callable[..., Any]
    batch: bool = False

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.target)


@dataclass(frozen=True)
class TimerFunction:
    """A ``timer_trigger`` function, its schedule resolved and parsed."""

    name: str
    arg_name: str
    schedule: Schedule
    run_on_startup: bool
    target: Callable[..., Any]

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.target)


@dataclass(frozen=True)
class IndexedApp:
    queue_functions: tuple[QueueFunction, ...]
    timer_functions: tuple[TimerFunction, ...]


def resolve_expression(value: str, settings: Mapping[str, str]) -> str:
    """Replace each ``%NAME%`` in ``value`` by the app setting ``NAME``, as the Functions host does.

    Lookup follows .NET configuration, which the host uses: names are case-insensitive and ``:`` in a
    name matches ``__`` in an environment variable (``%A:B%`` reads ``A__B``). A name that resolves to
    nothing, or an unclosed ``%``, raises ``IndexingError``.
    """
    out: list[str] = []
    position = 0
    while True:
        start = value.find("%", position)
        if start < 0:
            out.append(value[position:])
            return "".join(out)
        end = value.find("%", start + 1)
        if end < 0:
            raise IndexingError(f"the '%' at position {start} of {value!r} does not have a closing '%'")
        name = value[start + 1 : end]
        resolved = _lookup(name, settings)
        if resolved is None:
            raise IndexingError(f"'%{name}%' does not resolve to a value")
        out.append(value[position:start])
        out.append(resolved)
        position = end + 1


def _lookup(name: str, settings: Mapping[str, str]) -> str | None:
    if name in settings:
        return settings[name]
    wanted = _config_key(name)
    for key, setting in settings.items():
        if _config_key(key) == wanted:
            return setting
    return None


def _config_key(name: str) -> str:
    return name.replace("__", ":").casefold()


def index_app(app: Any, settings: Mapping[str, str]) -> IndexedApp:
    """The queue and timer functions of ``app`` (an ``azure.functions`` FunctionApp), ready to run."""
    queue_functions: list[QueueFunction] = []
    timer_functions: list[TimerFunction] = []
    for function in app.get_functions():
        name = str(function.get_function_name())
        trigger = function.get_trigger()
        binding: dict[str, Any] = trigger.get_dict_repr()
        kind = binding.get("type")
        try:
            if kind == SERVICE_BUS_TRIGGER:
                queue_functions.append(_queue_function(name, function, binding, settings))
            elif kind == TIMER_TRIGGER:
                timer_functions.append(_timer_function(name, function, binding, settings))
            elif kind == HTTP_TRIGGER:
                continue  # the ASGI app itself is served by uvicorn
            else:
                logger.warning("function=%s trigger=%s is not emulated by the sandbox host; skipped", name, kind)
        except IndexingError as exc:
            raise IndexingError(f"Error indexing function '{name}': {exc}") from exc
    return IndexedApp(tuple(queue_functions), tuple(timer_functions))


def _queue_function(name: str, function: Any, binding: Mapping[str, Any], settings: Mapping[str, str]) -> QueueFunction:
    if "queueName" not in binding:
        raise IndexingError("Service Bus topic triggers are not emulated; use a queue trigger")
    if binding.get("isSessionsEnabled"):
        raise IndexingError("session-enabled Service Bus triggers are not emulated")
    cardinality = str(binding.get("cardinality") or "one").lower()  # the decorator allows one or many
    arg_name = str(binding["name"])
    target = function.get_user_function()
    _check_signature(target, arg_name)
    return QueueFunction(
        name=name,
        arg_name=arg_name,
        queue=resolve_expression(str(binding["queueName"]), settings),
        connection=resolve_expression(str(binding.get("connection") or ""), settings),
        target=target,
        batch=cardinality == "many",
    )


def _timer_function(name: str, function: Any, binding: Mapping[str, Any], settings: Mapping[str, str]) -> TimerFunction:
    arg_name = str(binding["name"])
    target = function.get_user_function()
    _check_signature(target, arg_name)
    expression = resolve_expression(str(binding["schedule"]), settings)
    try:
        schedule = Schedule.parse(expression)
    except ValueError as exc:
        raise IndexingError(str(exc)) from exc
    return TimerFunction(
        name=name,
        arg_name=arg_name,
        schedule=schedule,
        run_on_startup=bool(binding.get("runOnStartup")),
        target=target,
    )


def _check_signature(target: Callable[..., Any], arg_name: str) -> None:
    """The host binds only the trigger argument: any other required parameter would never be filled."""
    parameters = inspect.signature(target).parameters
    if arg_name not in parameters:
        raise IndexingError(f"the function has no parameter named {arg_name!r} for its trigger")
    extra = [
        p.name
        for p in parameters.values()
        if p.name != arg_name
        and p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]
    if extra:
        raise IndexingError(f"parameters {extra} are not bound by the sandbox host (only the trigger argument is)")
