"""Serving benchmark: throughput, latency and start-up of ``modeltune deploy`` against a plain handler."""
