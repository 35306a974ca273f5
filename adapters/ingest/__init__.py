"""Ingesting exchange messages: the pipeline (`pipeline`), its quarantine and instrument catalogue
(`tables`), and reconciliation against what the exchange reports (`reconcile`)."""
