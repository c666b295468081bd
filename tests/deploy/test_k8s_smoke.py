"""`make k8s-smoke` in the suite: the `local` overlay under `podman kube play`, for real."""

from __future__ import annotations

import smoke


def test_the_local_overlay_serves_a_registration_and_a_pod_drains_on_sigterm_without_losing_work(infra):
    result = smoke.run(infra)
    print(f"\nbuild {result.build_seconds:.1f} s, smoke {result.smoke_seconds:.1f} s")

    assert set(result.ready) == {"registration", "ticketing", "notifications"}
    assert all(answer["status"] == "ready" for answer in result.ready.values())
    assert result.voucher_code is not None
    assert len(result.subjects) == 2 and result.voucher_code in result.subjects[1]

    drain = result.drain
    assert drain.exit_code == 0, "the pod was killed, not stopped by its SIGTERM handling"
    assert drain.stop_seconds < smoke.GRACE_SECONDS
    assert drain.vouchers == {email: 1 for email in drain.emails}
    assert drain.mails == {email: 2 for email in drain.emails}
