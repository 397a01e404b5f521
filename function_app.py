"""Composition only: the Azure Functions app (Python v2 model) over the FastAPI app, and each trigger bound
to its entry point in ``handlers/`` (which never meets the Azure SDK: they get bodies and properties)."""

from __future__ import annotations

import azure.functions as func

from handlers import queue_events, queue_operation_events, queue_reconcile, queue_ticket_writeback, timer_region_sync
from handlers.auth import Gate
from handlers.console_site import ConsoleConfig
from handlers.http_api import create_api
from shared.bootstrap import arm_site, container, health
from shared.settings import get_settings


def console_settings() -> ConsoleConfig:
    settings = get_settings()
    return ConsoleConfig(settings.console_client_id, settings.console_authority, settings.console_scope_list)


gate = Gate(authenticator=lambda: container().authenticator, access=lambda: container().access)
api = create_api(
    lambda: container().registries,
    health,
    gate,
    assets=lambda: container().assets,
    promotions=lambda: container().promotions,
    arm=lambda: arm_site(container().settings),
    console=console_settings,
)
app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.ANONYMOUS)


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%RECONCILE_QUEUE_NAME%", connection="ServiceBusConnection")
def reconcile(msg: func.ServiceBusMessage) -> None:
    queue_reconcile.reconcile(msg.get_body(), msg.application_properties or {}, msg.message_id)


@app.service_bus_queue_trigger(arg_name="msg", queue_name="%STEPS_QUEUE_NAME%", connection="ServiceBusConnection")
def step(msg: func.ServiceBusMessage) -> None:
    queue_reconcile.step(msg.get_body(), msg.application_properties or {}, msg.message_id, msg.delivery_count or 1)


@app.service_bus_queue_trigger(
    arg_name="msg", queue_name="%OPERATION_EVENTS_QUEUE_NAME%", connection="ServiceBusConnection"
)
def operation_finished(msg: func.ServiceBusMessage) -> None:
    queue_operation_events.operation_finished(msg.get_body(), msg.application_properties or {}, msg.message_id)


@app.service_bus_queue_trigger(
    arg_name="msg", queue_name="%TICKET_WRITEBACK_QUEUE_NAME%", connection="ServiceBusConnection"
)
def ticket_write(msg: func.ServiceBusMessage) -> None:
    queue_ticket_writeback.ticket_write(msg.get_body(), msg.application_properties or {}, msg.message_id)


@app.service_bus_queue_trigger(
    arg_name="msgs",
    queue_name="%EVENTS_QUEUE_NAME%",
    connection="ServiceBusConnection",
    cardinality=func.Cardinality.MANY,
)
def events(msgs: list[func.ServiceBusMessage]) -> None:
    queue_events.events((m.get_body(), m.application_properties or {}, m.message_id, m.delivery_count) for m in msgs)


@app.timer_trigger(schedule="%REGION_SYNC_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def region_sync(timer: func.TimerRequest) -> None:
    timer_region_sync.region_sync(timer.past_due)


@app.timer_trigger(schedule="%OUTBOX_RELAY_SCHEDULE%", arg_name="timer", run_on_startup=False, use_monitor=True)
def outbox_relay(timer: func.TimerRequest) -> None:
    timer_region_sync.outbox_relay()
