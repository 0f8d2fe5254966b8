"""The exit codes a pipeline can rely on."""

from __future__ import annotations

#: Sent and accepted (or printed, with --dry-run; or skipped with a warning, with --fail-open).
SENT = 0
#: Something unexpected went wrong in the reporter itself.
FAILED = 1
#: Bad arguments or configuration: nothing was sent.
USAGE = 2
#: The service refused the request (4xx), or the answer was not the service's (KPI_URL points
#: elsewhere): fix the call, retrying will not help.
REJECTED = 3
#: The service could not be reached or kept failing (connection errors, timeouts, 429, 5xx),
#: after the retries.
UNAVAILABLE = 4
#: kpi-report gate: the deploy gate answered freeze (the error budget is spent), and no
#: --override-reason was given.
FROZEN = 5

HELP = """exit codes:
  0  sent (or printed with --dry-run, or skipped with a warning under --fail-open)
  2  bad arguments or configuration (KPI_URL, KPI_TOKEN); nothing sent
  3  rejected by the service (4xx: unknown service, invalid field, bad token ...),
     or an answer that is not the service's (check KPI_URL)
  4  service unavailable after the retries (connection error, timeout, 429, 5xx)
  5  gate: the deploy gate is frozen (error budget spent); nothing overridden
  1  unexpected error in the reporter"""
