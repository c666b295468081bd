"""Build one container image per service, with no network inside the build.

    python deploy/images/build.py [--quiet]

The host resolves the Python dependencies from uv.lock into a wheelhouse
(`.local/images/wheelhouse/`: every wheel, plus `<service>.txt`, that service's
pinned requirements); each service's Dockerfile installs from it with
`pip --no-index`. The wheelhouse also holds `docs-assets/`: the files of the pinned
npm packages that /docs and /asyncapi load (unpacked by `make install`), which the
images carry so their pages need no CDN. Docker is used when a Docker engine answers; otherwise podman
(installed with apt-get when missing, configured by `containers.conf` beside this
file) on a Python 3.11 base made from Debian's packages with mmdebstrap.

Everything is cached: the wheelhouse is rebuilt only when uv.lock or the sources
change, the base image once, an image only when its wheelhouse, Dockerfile or build
arguments (the git revision among them) changed, and then from the engine's layer
cache, so a second run takes seconds. Tests import `ensure_images()` and `engine()`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from atelier_platform.docs_assets import PAGE_FILES

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = REPO / ".local" / "images"
WHEELHOUSE = WORK / "wheelhouse"
WHEELHOUSE_STAMP = WHEELHOUSE / ".digest"
CONTAINERS_CONF = HERE / "containers.conf"
SERVICES = ("registration", "ticketing", "notifications", "web")
NPM_CACHE = REPO / ".local" / "cache" / "npm"
WORKSPACE_PACKAGES = ("schemas", "libs/platform", *(f"services/{service}" for service in SERVICES))
# tzdata: the services read Europe/Brussels from the system's zone files.
DEBIAN_PACKAGES = "python3,python3-venv,ca-certificates,tzdata"
# The tag names the package list, so changing it makes a new base.
DEBIAN_BASE = f"localhost/atelier-python:3.11-bookworm-{hashlib.sha256(DEBIAN_PACKAGES.encode()).hexdigest()[:8]}"
APT_PACKAGES = ("podman", "runc", "mmdebstrap")
PIP = "pip==25.3"  # only to turn the locked requirements into wheels on the host


def image_name(service: str) -> str:
    return f"localhost/atelier-{service}:latest"


@dataclass(frozen=True)
class Engine:
    """The container CLI and the environment it runs with."""

    command: str
    env: dict[str, str]

    @property
    def is_podman(self) -> bool:
        return self.command == "podman"

    def run(self, *args: str, capture: bool = True) -> str:
        result = subprocess.run(
            [self.command, *args], env=self.env, text=True, capture_output=capture, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            detail = (result.stdout or "") + (result.stderr or "") if capture else ""
            raise RuntimeError(f"{self.command} {' '.join(args[:2])} failed (exit {result.returncode}):\n{detail}")
        return result.stdout or ""

    def has_image(self, name: str) -> bool:
        probe = subprocess.run(
            [self.command, "image", "inspect", name], env=self.env, capture_output=True, stdin=subprocess.DEVNULL
        )
        return probe.returncode == 0


def docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, stdin=subprocess.DEVNULL)
    return probe.returncode == 0


def apt_install(packages: tuple[str, ...]) -> None:
    if os.geteuid() != 0:
        sys.exit(f"missing {', '.join(packages)}: install them with sudo apt-get install -y {' '.join(packages)}")
    print(f"installing {', '.join(packages)} with apt-get...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # Another apt run on the machine holds the lock for a while: wait for it instead of failing.
    lock = ["-o", "DPkg::Lock::Timeout=600"]
    subprocess.run(["apt-get", *lock, "update", "-qq"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", *lock, "install", "-y", "-qq", *packages], env=env, check=True, stdout=subprocess.DEVNULL
    )


def podman_env() -> dict[str, str]:
    return {**os.environ, "CONTAINERS_CONF": str(CONTAINERS_CONF)}


def engine() -> Engine:
    """Docker when an engine answers, else podman (installed when missing)."""
    if docker_answers():
        return Engine("docker", dict(os.environ))
    missing = tuple(package for package in APT_PACKAGES if not shutil.which(package))
    if missing:
        apt_install(missing)
    return Engine("podman", podman_env())


def ensure_debian_base(podman: Engine) -> str:
    """A Python 3.11 image from Debian bookworm's packages, made once (mmdebstrap + podman import)."""
    if podman.has_image(DEBIAN_BASE):
        return DEBIAN_BASE
    print(f"making {DEBIAN_BASE} from Debian's packages (once)...", flush=True)
    with tempfile.TemporaryDirectory(prefix="atelier-base-") as tmp:
        rootfs = Path(tmp) / "rootfs.tar"
        subprocess.run(
            ["mmdebstrap", "--quiet", "--variant=apt", f"--include={DEBIAN_PACKAGES}", "bookworm", str(rootfs)],
            check=True,
            stdin=subprocess.DEVNULL,
        )
        podman.run("import", "--change", 'CMD ["python3"]', str(rootfs), DEBIAN_BASE)
    return DEBIAN_BASE


def sources_digest() -> str:
    """uv.lock and every file of the workspace packages: what the wheelhouse is made of."""
    digest = hashlib.sha256((REPO / "uv.lock").read_bytes())
    for package in WORKSPACE_PACKAGES:
        for path in sorted((REPO / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(REPO)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def uv(*args: str) -> str:
    return subprocess.run(["uv", *args], cwd=REPO, check=True, capture_output=True, text=True).stdout


def ensure_wheelhouse() -> Path:
    """Every wheel the services need, from uv.lock, and one requirements file per service."""
    digest = sources_digest()
    if WHEELHOUSE_STAMP.exists() and WHEELHOUSE_STAMP.read_text() == digest:
        return WHEELHOUSE
    print("building the wheelhouse from uv.lock...", flush=True)
    shutil.rmtree(WHEELHOUSE, ignore_errors=True)
    wheels = WHEELHOUSE / "wheels"
    wheels.mkdir(parents=True)
    third_party = set()
    for service in SERVICES:
        # The service's locked dependencies without dev tools; the workspace packages come as wheels below.
        pinned = uv(
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-header",
            "--no-emit-workspace",
            "--no-annotate",
            "--package",
            f"atelier-{service}",
        )
        requirements = [line for line in pinned.splitlines() if line and not line.startswith(("#", "-e", "."))]
        third_party.update(requirements)
        (WHEELHOUSE / f"{service}.txt").write_text("\n".join([f"atelier-{service}", *requirements]) + "\n")
    listing = WHEELHOUSE / "third-party.txt"
    listing.write_text("\n".join(sorted(third_party)) + "\n")
    subprocess.run(
        [
            "uvx",
            "--quiet",
            "--from",
            PIP,
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            "-r",
            str(listing),
        ],
        cwd=REPO,
        check=True,
    )
    listing.unlink()
    for package in WORKSPACE_PACKAGES:
        uv("build", "--quiet", "--wheel", "--out-dir", str(wheels), package)
    copy_docs_assets(WHEELHOUSE / "docs-assets")
    WHEELHOUSE_STAMP.write_text(digest)
    return WHEELHOUSE


def copy_docs_assets(target: Path) -> None:
    """The files /docs and /asyncapi load, from the npm cache (their versions are pinned in the
    platform's sources, so a new version changes the wheelhouse digest and lands here)."""
    for package, files in PAGE_FILES.items():
        for name in files:
            source = NPM_CACHE / package / name
            if not source.is_file():
                sys.exit(f"missing {source}: `make install` unpacks the pinned npm assets")
            (target / package / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / package / name)


def git_revision() -> str:
    result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def build_args(builder: Engine) -> dict[str, str]:
    args = {"GIT_REVISION": git_revision()}
    if builder.is_podman:
        args["BASE_IMAGE"] = ensure_debian_base(builder)
    return args


def build_image(builder: Engine, service: str, args: dict[str, str], quiet: bool) -> None:
    """Build unless the image was built from this very wheelhouse, Dockerfile and arguments."""
    dockerfile = REPO / "services" / service / "Dockerfile"
    inputs = hashlib.sha256(f"{WHEELHOUSE_STAMP.read_text()}{dockerfile.read_text()}{sorted(args.items())}".encode())
    stamp = WORK / f"{service}.built"
    if stamp.exists() and stamp.read_text() == inputs.hexdigest() and builder.has_image(image_name(service)):
        return
    command = ["build", "--tag", image_name(service), "--file", str(dockerfile)]
    if builder.is_podman:
        command += ["--network", "host", "--layers"]
    for key, value in args.items():
        command += ["--build-arg", f"{key}={value}"]
    if quiet:
        command.append("--quiet")
    builder.run(*command, str(WHEELHOUSE), capture=quiet)
    stamp.write_text(inputs.hexdigest())


def image_size(builder: Engine, service: str) -> int:
    return int(builder.run("image", "inspect", "--format", "{{.Size}}", image_name(service)).strip())


def ensure_images(quiet: bool = True) -> tuple[Engine, dict[str, float]]:
    """Build (or reuse from cache) the four images; returns the engine and the seconds each step took."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    builder = engine()
    args = build_args(builder)
    timings["engine and base image"] = time.monotonic() - started
    step = time.monotonic()
    ensure_wheelhouse()
    timings["wheelhouse"] = time.monotonic() - step
    for service in SERVICES:
        step = time.monotonic()
        build_image(builder, service, args, quiet)
        timings[service] = time.monotonic() - step
    timings["total"] = time.monotonic() - started
    return builder, timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="deploy/images/build.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quiet", action="store_true", help="no build output, only the summary")
    args = parser.parse_args(argv)
    builder, timings = ensure_images(quiet=args.quiet)
    print(f"\n{'image':<40} {'size':>10}")
    for service in SERVICES:
        print(f"{image_name(service):<40} {image_size(builder, service) / 1e6:>7.0f} MB")
    print(
        f"\nbuilt with {builder.command} in {timings['total']:.1f} s ("
        + ", ".join(f"{step} {seconds:.1f} s" for step, seconds in timings.items() if step != "total")
        + ")"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
