"""GitLab sends the shared secret itself, in X-Gitlab-Token: it signs nothing."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from service.ingest.proofs import Presented, equal

#: Headers carrying the secret.
SECRET_HEADERS = frozenset({"x-gitlab-token"})

#: The OpenAPI security scheme of `verify`.
SECURITY_SCHEMES: Mapping[str, dict[str, Any]] = {
    "gitlabToken": {"type": "apiKey", "in": "header", "name": "X-Gitlab-Token",
                    "description": "The source's secret token"},
}  # fmt: skip


def verify(presented: Presented) -> bool:
    """Whether X-Gitlab-Token is the secret."""
    return equal(presented.headers.get("x-gitlab-token", ""), presented.secret)
