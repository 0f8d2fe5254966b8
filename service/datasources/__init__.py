"""Gateways to the data sources SLIs are measured from: Prometheus' HTTP API."""
