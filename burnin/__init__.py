"""The burn-in harness: lots at fab-out, the simulated wafer, stress workloads, campaigns.

The top layer of the project (docs/architecture.md): it may import
``firmware_map``, ``db`` and ``yieldkit``; nothing imports it.
"""
