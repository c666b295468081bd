"""Kubernetes manifests under deploy/k8s, rendered by kustomize, for the deployment checks."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
OVERLAYS = ("local", "production")
sys.path.insert(0, str(K8S))
import local  # noqa: E402


def render(overlay: str) -> list[dict]:
    """An overlay (or `base`) as `kubectl kustomize` renders it."""
    return local.rendered(K8S / "base" if overlay == "base" else K8S / "overlays" / overlay)


def objects(docs: list[dict], kind: str) -> dict[str, dict]:
    """The objects of one kind, by name."""
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]
