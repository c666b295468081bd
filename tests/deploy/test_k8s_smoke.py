"""`make k8s-smoke` in the suite: the `local` overlay under `podman kube play`, for real."""

from __future__ import annotations

import smoke


def test_the_local_overlay_serves_a_registration_and_its_pages_is_scraped_and_a_pod_drains_without_losing_work(
    infra, tmp_path
):
    result = smoke.run(infra, tmp_path)
    print(f"\nbuild {result.build_seconds:.1f} s, smoke {result.smoke_seconds:.1f} s")

    assert set(result.ready) == {"registration", "ticketing", "notifications", "web"}
    assert all(answer["status"] == "ready" for service, answer in result.ready.items() if service != "web")
    assert result.programme_status == 200  # the pages reached registration's API from their pod
    assert result.voucher_code is not None
    assert len(result.subjects) == 2 and result.voucher_code in result.subjects[1]
    assert result.scraped == {"registration": 1.0, "ticketing": 1.0, "notifications": 1.0}  # Prometheus read each pod

    drain = result.drain
    assert drain.exit_code == 0, "the pod was killed, not stopped by its SIGTERM handling"
    assert drain.stop_seconds < smoke.GRACE_SECONDS
    assert drain.vouchers == {email: 1 for email in drain.emails}
    assert drain.mails == {email: 2 for email in drain.emails}
