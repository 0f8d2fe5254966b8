"""incident.io signs its webhooks as Standard Webhooks say: `webhook-signature` holds one or
more space-separated `v1,<base64 HMAC-SHA256>` of `<webhook-id>.<webhook-timestamp>.<body>`,
keyed with the endpoint's signing secret (`whsec_` then base64: the key is the decoded bytes).

The id and the timestamp are signed with the body, so neither can be changed on a captured
delivery; how old the timestamp may be is checked by the pipeline (service/ingest/freshness.py).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from service.ingest.proofs import Presented, equal, header_scheme

#: Headers carrying a proof made with the secret.
SECRET_HEADERS = frozenset({"webhook-signature"})

#: The OpenAPI security scheme of `verify`.
SECURITY_SCHEMES = header_scheme(
    "standardWebhooksSignature", "webhook-signature",
    "Standard Webhooks: v1,<base64 HMAC-SHA256> of webhook-id.webhook-timestamp.body (any of "
    "several may match)",
)  # fmt: skip

_PREFIX = "whsec_"


def signing_key(secret: str) -> bytes | None:
    """The HMAC key of a Standard Webhooks secret (`whsec_` and base64), None if it is not one."""
    encoded = secret.removeprefix(_PREFIX).strip()
    try:
        # Padding may be left out, as the reference libraries accept.
        return base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True) or None
    except (binascii.Error, ValueError):
        return None


def verify(presented: Presented) -> bool:
    """Whether any v1 signature is the HMAC of id, timestamp and body with the secret's key.
    A timestamp that is not whole seconds is refused, so the one checked later is the one
    signed."""
    key = signing_key(presented.secret)
    headers = presented.headers
    msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
    if key is None or not msg_id or not stamp.isascii() or not stamp.isdigit():
        return False
    content = f"{msg_id}.{stamp}.".encode() + presented.body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    matched = False
    for part in headers.get("webhook-signature", "").split():
        version, _, digest = part.partition(",")
        # Compare every candidate, so the time taken does not tell which one matched.
        if version == "v1" and equal(digest, expected):
            matched = True
    return matched
