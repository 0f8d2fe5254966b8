"""The pieces of the webhook limits that need no server: the client key and what a rejection
sample keeps of the headers (the buckets are tested in tests/test_rate_limits.py)."""

from __future__ import annotations

from service.usecases.ingestion_rejections import LEFT_OUT, sample_headers
from service.webhook_guard import client_bucket_key, client_key


def test_client_keys_group_ipv6_by_network_and_read_mapped_ipv4_as_itself() -> None:
    assert client_key("192.0.2.1") == client_key("::ffff:192.0.2.1") == 0xC0000201
    assert client_key("192.0.2.1") != client_key("192.0.2.2")
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:ffff") == 0x20010DB8 << 96
    assert client_key("2001:db8::1") != client_key("2001:db8:0:1::1")
    # No address (a Unix socket, a test client): one key per name.
    assert client_key("testclient") == client_key("testclient") != client_key(None)
    # In the database, by the same key; no address at all by its name, the same in every
    # process (a hash of text is not).
    assert client_bucket_key("::ffff:192.0.2.1") == str(0xC0000201)
    assert client_bucket_key("testclient") == "name:testclient"
    assert client_bucket_key(None) == "name:"


def test_a_sample_keeps_the_first_headers_cut_short_and_counts_the_rest() -> None:
    headers = {"x-" + "n" * 60: "v" * 500, **{f"h{i}": str(i) for i in range(20)}}
    kept = sample_headers(headers)
    # 12 headers: the long one cut to 40 and 100 characters (the last one an ellipsis), and
    # h0 to h10; the other 9 are counted.
    assert len(kept) == 13
    assert kept["x-" + "n" * 37 + "…"] == "v" * 99 + "…"
    assert [kept[f"h{i}"] for i in range(11)] == [str(i) for i in range(11)]
    assert kept[LEFT_OUT] == "9 more headers"
    assert sample_headers({"a": "b"}) == {"a": "b"}
