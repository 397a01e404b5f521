"""Adapters: Azure SDK implementations of the ports in ``shared.ports``."""
