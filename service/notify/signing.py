"""Standard Webhooks signatures (https://www.standardwebhooks.com), symmetric scheme `v1`.

The sender signs `{msg_id}.{timestamp}.{body}` with HMAC-SHA256 and sends three headers:
webhook-id (the message id, the same on every retry), webhook-timestamp (the attempt's time,
integer Unix seconds) and webhook-signature (space-separated `v1,<base64>` entries, several
while a key is rotated). Secrets are shown as `whsec_` + base64 of the key bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
#: The spec asks for 24 to 64 random bytes (192 to 512 bits).
MIN_SECRET_BYTES = 24
MAX_SECRET_BYTES = 64
#: A new key's size.
SECRET_BYTES = 32
#: How far a webhook-timestamp may be from the receiver's clock, either way, in seconds.
DEFAULT_TOLERANCE_SECONDS = 5 * 60

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


def new_secret_key() -> bytes:
    return secrets.token_bytes(SECRET_BYTES)


def format_secret(secret_key: bytes) -> str:
    """The key as receivers configure it: `whsec_` + base64."""
    return SECRET_PREFIX + base64.b64encode(secret_key).decode("ascii")


def parse_secret(text: str) -> bytes:
    """The key bytes of a `whsec_...` secret; ValueError when it is not one."""
    if not text.startswith(SECRET_PREFIX):
        raise ValueError(f"a signing secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(text[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ValueError(f"a signing secret is {SECRET_PREFIX!r} followed by base64") from exc
    if not MIN_SECRET_BYTES <= len(key) <= MAX_SECRET_BYTES:
        raise ValueError(
            f"a signing secret holds {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {len(key)}"
        )
    return key


def _digest(secret_key: bytes, msg_id: str, timestamp: int | str, body: bytes) -> bytes:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return hmac.new(secret_key, signed, hashlib.sha256).digest()


def sign(secret_key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{msg_id}.{timestamp}.{body}">`."""
    if "." in msg_id:
        # The parts are joined with dots: an id holding one could shift the timestamp.
        raise ValueError("a message id must not contain '.'")
    return "v1," + base64.b64encode(_digest(secret_key, msg_id, timestamp, body)).decode("ascii")


def headers(secret_key: bytes, msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one attempt."""
    return {
        ID_HEADER: msg_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret_key, msg_id, timestamp, body),
    }


def verify(
    secret_key: bytes,
    received: Mapping[str, str],
    body: bytes,
    *,
    now: int | None = None,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Whether the headers carry a valid `v1` signature of the body, made within the tolerance
    of `now` (Unix seconds, default the clock). Header names are matched case-insensitively."""
    lowered = {k.lower(): v for k, v in received.items()}
    msg_id = lowered.get(ID_HEADER, "")
    stamp = lowered.get(TIMESTAMP_HEADER, "")
    signatures = lowered.get(SIGNATURE_HEADER, "")
    if not (msg_id and stamp.isascii() and stamp.isdigit() and signatures):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - int(stamp)) > tolerance_seconds:
        return False
    expected = _digest(secret_key, msg_id, stamp, body)
    matched = False
    for entry in signatures.split(" "):
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            given = base64.b64decode(value, validate=True)
        except binascii.Error:
            continue
        # Compare every candidate, so the time taken does not tell which one matched.
        if hmac.compare_digest(given, expected):
            matched = True
    return matched
