"""Standard Webhooks signatures: the published test vector, headers, secrets, verification."""

from __future__ import annotations

import base64

import pytest

from service.notify import signing

# The Standard Webhooks reference libraries' test vector (their test_sign_function).
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = b'{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

KEY = signing.parse_secret(VECTOR_SECRET)


def vector_headers() -> dict[str, str]:
    return signing.headers(KEY, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY)


def test_sign_matches_the_published_vector() -> None:
    assert signing.sign(KEY, VECTOR_ID, VECTOR_TIMESTAMP, VECTOR_BODY) == VECTOR_SIGNATURE


def test_headers() -> None:
    assert vector_headers() == {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(VECTOR_TIMESTAMP),
        "webhook-signature": VECTOR_SIGNATURE,
    }


def test_secret_round_trip_and_validation() -> None:
    key = signing.new_secret_key()
    assert len(key) == 32
    text = signing.format_secret(key)
    assert text.startswith("whsec_")
    assert signing.parse_secret(text) == key
    assert signing.format_secret(KEY) == VECTOR_SECRET
    for bad in (
        "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",  # no prefix
        "whsec_not base64!",
        "whsec_" + base64.b64encode(b"x" * 23).decode(),  # under 24 bytes
        "whsec_" + base64.b64encode(b"x" * 65).decode(),  # over 64 bytes
    ):
        with pytest.raises(ValueError):
            signing.parse_secret(bad)


def test_a_message_id_with_a_dot_is_refused() -> None:
    with pytest.raises(ValueError, match="must not contain"):
        signing.sign(KEY, "msg.1", VECTOR_TIMESTAMP, VECTOR_BODY)


def test_verify_accepts_the_vector_within_the_tolerance() -> None:
    headers = vector_headers()
    assert signing.verify(KEY, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)
    assert signing.verify(KEY, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP + 300)
    assert signing.verify(KEY, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP - 300)
    # header names are case-insensitive
    upper = {k.upper(): v for k, v in headers.items()}
    assert signing.verify(KEY, upper, VECTOR_BODY, now=VECTOR_TIMESTAMP)


def test_verify_refuses_what_it_must() -> None:
    headers = vector_headers()
    now = VECTOR_TIMESTAMP
    assert not signing.verify(KEY, headers, VECTOR_BODY + b" ", now=now)
    assert not signing.verify(signing.new_secret_key(), headers, VECTOR_BODY, now=now)
    assert not signing.verify(KEY, headers, VECTOR_BODY, now=now + 301)  # too old
    assert not signing.verify(KEY, headers, VECTOR_BODY, now=now - 301)  # too new
    assert not signing.verify(KEY, headers, VECTOR_BODY)  # by the clock: years old
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature"):
        missing = {k: v for k, v in headers.items() if k != name}
        assert not signing.verify(KEY, missing, VECTOR_BODY, now=now)
    for changed in (
        {"webhook-id": "msg_other"},
        {"webhook-timestamp": "hello"},
        {"webhook-timestamp": str(now + 1)},
        {"webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA="},
        {"webhook-signature": "v2," + VECTOR_SIGNATURE[3:]},
        {"webhook-signature": "v1,not-base64"},
    ):
        assert not signing.verify(KEY, headers | changed, VECTOR_BODY, now=now), changed


def test_verify_accepts_any_matching_signature_of_several() -> None:
    """Several signatures are sent while a key is rotated; one valid `v1` is enough."""
    headers = vector_headers()
    headers["webhook-signature"] = " ".join([
        "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=",
        "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==",
        VECTOR_SIGNATURE,
    ])  # fmt: skip
    assert signing.verify(KEY, headers, VECTOR_BODY, now=VECTOR_TIMESTAMP)
