"""Pure KPI rules, free of I/O: tested as plain functions."""
