"""Ingestion of incidents and changes: one adapter per source tool, and the pipeline that
verifies, records, maps and applies what the tools send."""
