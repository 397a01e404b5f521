"""The sandbox ARM simulator: a local Azure Resource Manager for the resources regctl provisions.

``python -m sandbox arm`` runs it; docs/sandbox.md describes what it simulates and how to steer it.
Module map: ``app`` (front door and dispatch), ``routes``, ``http``/``envelope`` (wire), ``state``/``lro``
(store and long-running operations), one module per resource (``resources``, ``storage``, ``acr``,
``acr_import``, ``replications``, ``authz``), ``faults``/``throttle``, ``admin`` (the ``/_sandbox/``
surface), ``server``/``certs`` (process), ``azurite``, and for callers ``launcher`` and ``control``.
"""
