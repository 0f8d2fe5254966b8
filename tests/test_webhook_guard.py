"""The pieces of the webhook limits that need no server: the buckets spent by refusals, the
client key, and what a rejection sample keeps of the headers."""

from __future__ import annotations

from service.usecases.ingestion_rejections import LEFT_OUT, sample_headers
from service.webhook_guard import RefusalBuckets, client_key
from tests.test_rate_limits import FakeClock


def test_refusal_buckets_are_checked_without_spending_and_spent_by_refusals() -> None:
    clock = FakeClock()
    buckets = RefusalBuckets(rate=0.5, burst=2, clock=clock)
    assert [buckets.wait(1) for _ in range(5)] == [0] * 5  # checking spends nothing
    buckets.spend(1)
    buckets.spend(1)
    assert buckets.wait(1) == 2.0  # empty: one refusal comes back every 1 / 0.5 s
    assert buckets.wait(2) == 0  # another address has its own bucket
    clock.now += 1.5
    assert buckets.wait(1) == 0.5  # three quarters of a refusal refilled
    clock.now += 0.5
    assert buckets.wait(1) == 0
    clock.now += 60
    buckets.spend(1)
    assert buckets.wait(1) == 0  # refilled to the burst only: one refusal left of two


def test_refusal_buckets_forget_the_least_recently_refused_past_their_size() -> None:
    clock = FakeClock()
    buckets = RefusalBuckets(rate=1, burst=1, max_keys=3, clock=clock)
    for key in (1, 2, 3):
        buckets.spend(key)
    buckets.spend(1)  # 1 is now the most recently refused
    buckets.spend(4)  # a fourth address: 2, refused longest ago, is forgotten
    assert list(buckets.buckets) == [3, 1, 4]
    assert [buckets.wait(k) for k in (1, 2, 3, 4)] == [1.0, 0, 1.0, 1.0]


def test_client_keys_group_ipv6_by_network_and_read_mapped_ipv4_as_itself() -> None:
    assert client_key("192.0.2.1") == client_key("::ffff:192.0.2.1") == 0xC0000201
    assert client_key("192.0.2.1") != client_key("192.0.2.2")
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff:ffff") == 0x20010DB8 << 96
    assert client_key("2001:db8::1") != client_key("2001:db8:0:1::1")
    # No address (a Unix socket, a test client): one key per name.
    assert client_key("testclient") == client_key("testclient") != client_key(None)


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
