"""%SETTING% binding expressions and function indexing, as the Functions host does them."""

from __future__ import annotations

import azure.functions as func
import pytest
from fastapi import FastAPI

from sandbox.host.bindings import IndexingError, index_app, resolve_expression


def test_a_whole_expression_resolves_to_the_setting() -> None:
    assert resolve_expression("%RECONCILE_QUEUE_NAME%", {"RECONCILE_QUEUE_NAME": "regctl-reconcile"}) == (
        "regctl-reconcile"
    )


def test_expressions_inside_text_and_several_per_value_resolve() -> None:
    settings = {"ENV": "dev", "KIND": "steps"}

    assert resolve_expression("regctl-%ENV%-%KIND%", settings) == "regctl-dev-steps"


def test_text_without_expressions_is_unchanged() -> None:
    assert resolve_expression("0 */30 * * * *", {}) == "0 */30 * * * *"


def test_setting_names_are_case_insensitive_like_app_settings() -> None:
    assert resolve_expression("%steps_queue_name%", {"STEPS_QUEUE_NAME": "regctl-steps"}) == "regctl-steps"


def test_a_colon_in_the_name_reads_the_double_underscore_variable() -> None:
    settings = {"Schedules__RegionSync": "0 0 * * * *"}

    assert resolve_expression("%Schedules:RegionSync%", settings) == "0 0 * * * *"


def test_an_unknown_setting_fails_with_the_hosts_message() -> None:
    with pytest.raises(IndexingError, match=r"'%MISSING%' does not resolve to a value"):
        resolve_expression("%MISSING%", {"OTHER": "x"})


def test_an_unclosed_percent_fails() -> None:
    with pytest.raises(IndexingError, match="closing"):
        resolve_expression("queue-%NAME", {"NAME": "x"})


def _app() -> func.AsgiFunctionApp:
    return func.AsgiFunctionApp(app=FastAPI(), http_auth_level=func.AuthLevel.ANONYMOUS)


def test_indexing_resolves_queue_names_and_parses_timer_schedules() -> None:
    app = _app()

    @app.service_bus_queue_trigger(arg_name="msg", queue_name="%Q%", connection="ServiceBusConnection")
    def on_message(msg: func.ServiceBusMessage) -> None: ...

    @app.timer_trigger(schedule="%S%", arg_name="timer", run_on_startup=True, use_monitor=False)
    async def on_timer(timer: func.TimerRequest) -> None: ...

    indexed = index_app(app, {"Q": "regctl-steps", "S": "0 */30 * * * *"})

    (queue_function,) = indexed.queue_functions
    assert (queue_function.name, queue_function.queue, queue_function.arg_name) == (
        "on_message",
        "regctl-steps",
        "msg",
    )
    assert queue_function.connection == "ServiceBusConnection"
    assert not queue_function.is_async
    (timer_function,) = indexed.timer_functions
    assert timer_function.name == "on_timer"
    assert str(timer_function.schedule) == "0 */30 * * * *"
    assert timer_function.run_on_startup
    assert timer_function.is_async


def test_a_trigger_of_cardinality_many_is_indexed_as_a_batch_function() -> None:
    app = _app()

    @app.service_bus_queue_trigger(
        arg_name="msgs", queue_name="q", connection="ServiceBusConnection", cardinality=func.Cardinality.MANY
    )
    def on_batch(msgs: list[func.ServiceBusMessage]) -> None: ...

    @app.service_bus_queue_trigger(arg_name="msg", queue_name="r", connection="ServiceBusConnection")
    def on_message(msg: func.ServiceBusMessage) -> None: ...

    batch, single = index_app(app, {}).queue_functions
    assert (batch.name, batch.batch, batch.arg_name) == ("on_batch", True, "msgs")
    assert (single.name, single.batch) == ("on_message", False)


def test_indexing_fails_fast_naming_the_function_whose_setting_is_missing() -> None:
    app = _app()

    @app.service_bus_queue_trigger(arg_name="msg", queue_name="%NOPE%", connection="ServiceBusConnection")
    def on_message(msg: func.ServiceBusMessage) -> None: ...

    with pytest.raises(IndexingError, match=r"on_message.*'%NOPE%' does not resolve"):
        index_app(app, {})


def test_indexing_refuses_an_invalid_schedule() -> None:
    app = _app()

    @app.timer_trigger(schedule="every five minutes", arg_name="timer")
    def on_timer(timer: func.TimerRequest) -> None: ...

    with pytest.raises(IndexingError, match="not a valid CRON expression"):
        index_app(app, {})


def test_indexing_refuses_parameters_the_host_would_never_bind() -> None:
    app = _app()

    @app.service_bus_queue_trigger(arg_name="msg", queue_name="q", connection="ServiceBusConnection")
    def on_message(msg: func.ServiceBusMessage, extra: str) -> None: ...

    with pytest.raises(IndexingError, match="extra"):
        index_app(app, {})


def test_the_asgi_http_function_is_left_to_uvicorn() -> None:
    indexed = index_app(_app(), {})

    assert indexed.queue_functions == ()
    assert indexed.timer_functions == ()
