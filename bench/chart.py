"""The benchmark's picture: registrations accepted, vouchers issued and emails delivered over time."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: a file
import matplotlib.pyplot as plt  # noqa: E402

SERIES = (("accepted", "registrations accepted"), ("vouchers", "vouchers issued"), ("emails", "emails delivered"))


def draw(result: dict, path: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    for ax, scenario, title in (
        (axes[0], "burst", f"burst: {result['burst']['registrations']} registrations at once"),
        (
            axes[1],
            "paced",
            f"paced: {result['settings']['paced_rate_per_s']:g}/s for {result['settings']['paced_seconds']:g} s",
        ),
    ):
        timeline = result[scenario]["timeline"]
        for key, label in SERIES:
            counts = timeline[key]
            ax.plot([n * timeline["step_s"] for n in range(len(counts))], counts, label=label)
        ax.set_title(title)
        ax.set_xlabel("seconds since the first request")
        ax.set_ylabel("count")
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(
        f"Atelier, whole chain, {result['machine']['cores']} cores, durable Postgres ({result['measured_at']})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=80)
    plt.close(figure)
