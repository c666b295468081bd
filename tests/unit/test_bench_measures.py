"""The benchmark's arithmetic: percentiles, counts over time, rates, ratios to the raw floor, CPU shares."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from cpu import split_by_label  # noqa: E402
from measures import cumulative, percentile, ratio_to_floor, span_rate  # noqa: E402


def test_a_percentile_interpolates_between_the_two_nearest_ranks():
    delays = [0.4, 0.1, 0.3, 0.2, 0.5]
    assert percentile(delays, 0) == 0.1
    assert percentile(delays, 50) == 0.3
    assert percentile(delays, 100) == 0.5
    assert percentile(delays, 90) == pytest.approx(0.46)
    assert percentile([7.0], 99) == 7.0


def test_a_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError):
        percentile([], 50)


def test_a_timeline_counts_what_happened_by_each_step_including_the_end():
    arrivals = [0.2, 0.5, 0.5, 1.7, 3.0]
    assert cumulative(arrivals, 0.0, 0.5, 3.0) == [0, 3, 3, 3, 4, 4, 5]
    assert cumulative([], 0.0, 1.0, 2.0) == [0, 0, 0]


def test_a_stage_rate_counts_from_its_first_event_to_its_last():
    assert span_rate([10.0, 11.0, 12.0, 14.0]) == 0.75
    assert span_rate([3.0]) is None
    assert span_rate([2.0, 2.0]) is None


def test_a_stage_is_compared_with_the_slowest_raw_part_it_goes_through():
    floors = {"kafka": 4000.0, "postgres": 800.0, "smtp": 200.0}
    assert ratio_to_floor(400.0, floors, ("kafka", "postgres")) == 0.5
    assert ratio_to_floor(50.0, floors, ("kafka", "postgres", "smtp")) == 0.25
    assert ratio_to_floor(None, floors, ("postgres",)) is None


def test_postgres_time_is_shared_by_database_and_what_no_live_backend_explains_is_other():
    before = {10: 1.0, 11: 2.0, 12: 0.5}  # 12 exits during the scenario; 13 connects during it
    after = {10: 4.0, 11: 2.5, 13: 1.5}
    labels = {10: "notifications", 11: "ticketing", 13: "notifications"}
    assert split_by_label(before, after, labels, total=7.0) == {"notifications": 4.5, "ticketing": 0.5, "other": 2.0}
    assert split_by_label({}, {}, {}, total=1.25) == {"other": 1.25}
