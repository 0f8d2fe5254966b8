"""GitLab's replay identifiers: Idempotency-Key, else X-Gitlab-Event-UUID."""

from __future__ import annotations

from service.ingest.sources.gitlab import replay as gitlab_replay
from tests.ingest.sources.gitlab.test_adapter import delivery


def test_delivery_key_prefers_idempotency_key() -> None:
    both = {"idempotency-key": "idem-1", "x-gitlab-event-uuid": "uuid-1"}
    assert gitlab_replay.delivery_key(delivery("Push Hook", {}, **both)) == "idem-1"
    uuid_only = {"x-gitlab-event-uuid": "uuid-1"}
    assert gitlab_replay.delivery_key(delivery("Push Hook", {}, **uuid_only)) == "uuid-1"
    assert gitlab_replay.delivery_key(delivery("Push Hook", {})) is None
