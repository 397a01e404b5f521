"""Use cases: submit operations, reconcile registries, run steps. They know ports, never adapters."""
