"""Per-client token buckets, on a clock the test turns by hand."""

from __future__ import annotations

from atelier_platform.ratelimit import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_client_gets_its_burst_then_waits_for_the_next_token():
    clock = Clock()
    buckets = TokenBuckets(burst=3, per_second=0.5, clock=clock)
    assert [buckets.take("10.0.0.1") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("10.0.0.1") == 2.0  # one token every two seconds
    clock.now += 1.5
    assert buckets.take("10.0.0.1") == 0.5
    clock.now += 0.5
    assert buckets.take("10.0.0.1") == 0
    assert buckets.take("10.0.0.1") > 0


def test_refused_requests_do_not_delay_the_next_token():
    clock = Clock()
    buckets = TokenBuckets(burst=1, per_second=1, clock=clock)
    buckets.take("a")
    for _ in range(50):
        buckets.take("a")
    clock.now += 1
    assert buckets.take("a") == 0


def test_each_client_has_its_own_bucket():
    buckets = TokenBuckets(burst=1, per_second=0.1, clock=Clock())
    assert buckets.take("a") == 0
    assert buckets.take("a") > 0
    assert buckets.take("b") == 0


def test_an_idle_client_refills_only_up_to_its_burst():
    clock = Clock()
    buckets = TokenBuckets(burst=2, per_second=1, clock=clock)
    buckets.take("a")
    clock.now += 3600
    assert [buckets.take("a") == 0 for _ in range(3)] == [True, True, False]


def test_memory_stays_bounded_by_forgetting_the_longest_idle_client():
    clock = Clock()
    buckets = TokenBuckets(burst=1, per_second=0.001, clock=clock, max_clients=2)
    buckets.take("old")
    buckets.take("recent")
    buckets.take("new")  # "old" is forgotten: it starts again with a full bucket
    assert buckets.take("old") == 0
    assert buckets.take("new") > 0
