"""Rendered Kubernetes manifests, shared by the manifest checks.

Importing support.manifests puts deploy/k8s on the path, so the tests import `smoke` from there.
"""

from __future__ import annotations

import pytest
from support.manifests import OVERLAYS, render


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    """The base and each overlay as `kubectl kustomize` renders them."""
    return {overlay: render(overlay) for overlay in ("base", *OVERLAYS)}
