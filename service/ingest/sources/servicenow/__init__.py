"""ServiceNow: its adapter and its row of the README (it signs nothing); setup.md holds the
business rule that posts its incidents."""

from __future__ import annotations

from service.ingest.sources.definition import shared_secret_source
from service.ingest.sources.servicenow import adapter, replay

SOURCE = shared_secret_source(
    adapter,
    replay,
    sends=(
        "the incident record on insert and update, posted by the business rule of its setup "
        "(state, priority 1-5, opened / resolved / closed times, business service or CI)"
    ),
    dedupe=(
        "`sys_id` + `sys_mod_count` (else `sys_updated_on`), read from the body: each update of "
        "the record is applied once"
    ),
)
