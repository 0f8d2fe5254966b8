"""GitHub signs the raw body with HMAC-SHA256: X-Hub-Signature-256: sha256=<hex>."""

from __future__ import annotations

from service.ingest.proofs import Presented, equal, header_scheme, hmac_hex

#: Headers carrying a proof made with the secret (the SHA-1 one is sent too, and never used).
SECRET_HEADERS = frozenset({"x-hub-signature", "x-hub-signature-256"})

#: The OpenAPI security scheme of `verify`.
SECURITY_SCHEMES = header_scheme(
    "githubSignature", "X-Hub-Signature-256", "sha256=<hex HMAC-SHA256 of the body with the secret>"
)


def verify(presented: Presented) -> bool:
    """Whether X-Hub-Signature-256 is the body's HMAC with the secret."""
    scheme, _, digest = presented.headers.get("x-hub-signature-256", "").partition("=")
    return scheme == "sha256" and equal(digest.lower(), hmac_hex(presented.secret, presented.body))
