"""Rendered Kubernetes manifests, shared by the manifest checks."""

from __future__ import annotations

import pytest
from support.manifests import OVERLAYS, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """The base and each overlay as `kubectl kustomize` renders them."""
    return {overlay: render(overlay) for overlay in ("base", *OVERLAYS)}
