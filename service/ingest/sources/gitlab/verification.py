"""GitLab sends the shared secret itself, in X-Gitlab-Token: it signs nothing."""

from __future__ import annotations

from service.ingest.proofs import Presented, equal, header_scheme

#: Headers carrying the secret.
SECRET_HEADERS = frozenset({"x-gitlab-token"})

#: The OpenAPI security scheme of `verify`.
SECURITY_SCHEMES = header_scheme("gitlabToken", "X-Gitlab-Token", "The source's secret token")


def verify(presented: Presented) -> bool:
    """Whether X-Gitlab-Token is the secret."""
    return equal(presented.headers.get("x-gitlab-token", ""), presented.secret)
