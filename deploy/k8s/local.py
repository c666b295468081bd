"""The `local` overlay on this machine, under `podman kube play`.

    python deploy/k8s/local.py render [--name STACK]   # the overlay filled with the stack's settings
    python deploy/k8s/local.py play [--name STACK]     # start the four pods against that stack
    python deploy/k8s/local.py down                    # stop and remove them

`kubectl kustomize deploy/k8s/overlays/local` gives the manifests; this fills the ConfigMaps
and Secrets with the local stack's Kafka, Postgres and SMTP addresses and tokens (started
with `make up` when `--name dev`) and gives each service a free port, since several
checkouts share this machine's host network.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO / "deploy" / "images"))
import build  # noqa: E402
from atelier_devkit.stack.infra import ensure_infra  # noqa: E402
from atelier_devkit.stack.processes import free_port  # noqa: E402

OVERLAY = HERE / "overlays" / "local"
MANIFEST = REPO / ".local" / "k8s" / "local.yaml"
SERVICES = build.SERVICES
# Pods are named after their Deployment, machine-wide: each checkout gets its own names.
PREFIX = f"atelier-{hashlib.sha256(str(REPO).encode()).hexdigest()[:6]}-"
# Settings taken from the stack's environment, by the ConfigMap or Secret that carries them.
FROM_STACK = ("KAFKA_BOOTSTRAP_SERVERS", "SMTP_HOST", "SMTP_PORT", "_DATABASE_URL", "_TOKEN", "_SIGNING_KEY")


@dataclass(frozen=True)
class Deployment:
    """What `play` started: the manifest and each service's URL on loopback."""

    manifest: Path
    urls: dict[str, str]


def rendered(overlay: Path = OVERLAY) -> list[dict]:
    """The overlay as kubectl renders it, one dict per object."""
    text = subprocess.run(["kubectl", "kustomize", str(overlay)], check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(text) if doc]


def filled(docs: list[dict], infra: dict[str, str], ports: dict[str, int]) -> list[dict]:
    """Point the ConfigMaps and Secrets at the stack, on the given ports."""
    for doc in docs:
        name = doc["metadata"]["name"]
        if doc["kind"] == "ConfigMap":
            data = doc["data"]
            data[f"{name.upper()}_PORT"] = str(ports[name])
            # Where the pods reach each other (web reaches the APIs), and the pages the emails link to.
            urls = {f"{service.upper()}_URL": f"http://127.0.0.1:{port}" for service, port in ports.items()}
            urls["REGISTRATION_PUBLIC_URL"] = urls["WEB_URL"]
            data.update({key: url for key, url in urls.items() if key in data})
            data.update({key: infra[key] for key in data if key.endswith(FROM_STACK) and key in infra})
        elif doc["kind"] == "Secret":
            doc["stringData"] = {key: infra.get(key, value) for key, value in doc["stringData"].items()}
    return docs


def for_podman(docs: list[dict]) -> list[dict]:
    """Podman 4.3 cannot read back a Secret it took from kube YAML: hand each Deployment its
    Secret's values as plain `env` instead of `envFrom: secretRef`, and leave the Secrets out.
    Deployments get this checkout's prefix."""
    secrets = {doc["metadata"]["name"]: doc["stringData"] for doc in docs if doc["kind"] == "Secret"}
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        doc["metadata"]["name"] = PREFIX + doc["metadata"]["name"]
        for container in doc["spec"]["template"]["spec"]["containers"]:
            sources = container.pop("envFrom")
            refs = [source["secretRef"]["name"] for source in sources if "secretRef" in source]
            container["envFrom"] = [source for source in sources if "secretRef" not in source]
            container["env"] = [{"name": k, "value": v} for ref in refs for k, v in secrets[ref].items()]
    return [doc for doc in docs if doc["kind"] != "Secret"]


def write_manifest(infra: dict[str, str], ports: dict[str, int]) -> Path:
    MANIFEST.parent.mkdir(parents=True, exist_ok=True)
    MANIFEST.write_text(yaml.safe_dump_all(for_podman(filled(rendered(), infra, ports)), sort_keys=False))
    return MANIFEST


def free_ports() -> dict[str, int]:
    return {service: free_port() for service in SERVICES}


def play(podman: build.Engine, infra: dict[str, str]) -> Deployment:
    """`podman kube play` the filled overlay on free ports; returns once podman has started the pods."""
    ports = free_ports()
    manifest = write_manifest(infra, ports)
    podman.run("kube", "play", "--replace", str(manifest))
    return Deployment(manifest, {service: f"http://127.0.0.1:{port}" for service, port in ports.items()})


def down(podman: build.Engine, manifest: Path = MANIFEST) -> None:
    if manifest.exists():
        podman.run("kube", "down", str(manifest))


def pod_name(service: str) -> str:
    """The pod podman makes for a service's Deployment (of one replica)."""
    return f"{PREFIX}{service}-pod-0"


def container_name(service: str) -> str:
    return f"{pod_name(service)}-{service}"


def container_state(podman: build.Engine, service: str) -> dict:
    return json.loads(podman.run("container", "inspect", container_name(service)))[0]["State"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/k8s/local.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("render", "play", "down"))
    parser.add_argument("--name", default="dev", help="the local stack to run against (default: dev)")
    args = parser.parse_args(argv)
    podman = build.Engine("podman", build.podman_env())
    if args.command == "down":
        down(podman)
        return 0
    infra = ensure_infra(args.name)
    if args.command == "render":
        print(yaml.safe_dump_all(filled(rendered(), infra, free_ports()), sort_keys=False), end="")
        return 0
    deployment = play(podman, infra)
    for service, url in deployment.urls.items():
        print(f"{service}: {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
