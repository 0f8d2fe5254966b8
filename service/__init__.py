"""KPI service: business KPIs from what IT tools already send, served as one graph."""

__version__ = "0.1.0"
