"""Composition only: the Azure Functions app (Python v2 model) over the FastAPI app and the blueprints."""

from __future__ import annotations

import azure.functions as func

from handlers import queue_reconcile, timer_region_sync
from handlers.http_api import create_api
from shared.bootstrap import container, health

api = create_api(lambda: container().registries, health)
app = func.AsgiFunctionApp(app=api, http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(queue_reconcile.bp)
app.register_functions(timer_region_sync.bp)
