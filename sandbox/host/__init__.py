"""The sandbox's local Functions host: serves the app's ASGI API and drives its queue and timer triggers.

``python -m sandbox.host --app function_app --port 7071``; how it maps onto the Azure Functions host is in
``docs/sandbox-host.md``.
"""

from __future__ import annotations

from sandbox.host.cli import main

__all__ = ["main"]
