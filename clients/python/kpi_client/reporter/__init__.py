"""`kpi-report`: sends a change, an observation or an incident from a CI/CD pipeline."""

from kpi_client.reporter.cli import main

__all__ = ["main"]
