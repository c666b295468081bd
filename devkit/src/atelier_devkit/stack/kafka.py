"""Kafka in KRaft mode: jars resolved once by Maven, one broker per stack."""

from __future__ import annotations

import base64
import hashlib
import shutil
import socket
import struct
import time
import uuid
from pathlib import Path
from string import Template

from .processes import choose_port, is_running, require_tool, reuse_or_stop, run, spawn, wait_ready
from .state import HOST, LOCAL, REPO, State, log_path, save_state, stack_dir

CONFIG = REPO / "deploy" / "local" / "kafka"
KAFKA_POM = CONFIG / "pom.xml"
KAFKA_TEMPLATE = CONFIG / "server.properties.template"
KAFKA_LOG4J = CONFIG / "log4j2.properties"
KAFKA_LIBS = LOCAL / "cache" / "kafka-libs"
KAFKA_LIBS_STAMP = KAFKA_LIBS / ".complete"
MAVEN_REPO = LOCAL / "cache" / "m2"


def kafka_marker(name: str) -> str:
    return str(stack_dir(name) / "server.properties")


def kafka_answers(port: int) -> bool:
    """One ApiVersions v0 round trip: the broker is up and serving requests."""
    client_id = b"atelier-stack"
    request = struct.pack(">hhih", 18, 0, 1, len(client_id)) + client_id
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            reply = b""
            while len(reply) < 10:  # size, correlation id, error code
                chunk = sock.recv(10 - len(reply))
                if not chunk:
                    return False
                reply += chunk
    except OSError:
        return False
    _, correlation_id, error_code = struct.unpack(">iih", reply)
    return bool(correlation_id == 1 and error_code == 0)


def pom_digest() -> str:
    return hashlib.sha1(KAFKA_POM.read_bytes()).hexdigest()


def ensure_kafka_libs() -> None:
    """Resolve the broker jars once; the stamp marks a finished download for this pom."""
    stamp_ok = KAFKA_LIBS_STAMP.exists() and KAFKA_LIBS_STAMP.read_text() == pom_digest()
    if stamp_ok and any(KAFKA_LIBS.glob("kafka_2.13-*.jar")):
        return
    mvn = require_tool("mvn")
    shutil.rmtree(KAFKA_LIBS, ignore_errors=True)  # half a download or jars of an older pom
    print("downloading kafka jars (first run only)...")
    started = time.monotonic()
    run(
        [
            mvn,
            "-q",
            "-B",
            "-f",
            KAFKA_POM,
            f"-Dmaven.repo.local={MAVEN_REPO}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={KAFKA_LIBS}",
        ]
    )
    KAFKA_LIBS_STAMP.write_text(pom_digest())
    print(f"kafka jars ready in {time.monotonic() - started:.1f} s")


# A local broker lives for a test run or a benchmark, on the cores of what it serves, and C2 (the JVM's
# optimising compiler) spent half its CPU there compiling the broker's hot paths. With C1 alone the
# broker takes about half the CPU in `make bench`; C1's code is slower, within the raw Kafka floor's noise.
BROKER_JVM = ("-Xmx512m", "-Xms256m", "-XX:TieredStopAtLevel=1")


def kafka_java(main_class: str, *args: str, jvm: tuple[str, ...] = ()) -> list[str]:
    return [
        require_tool("java"),
        *jvm,
        "-cp",
        f"{KAFKA_LIBS}/*",  # java expands the wildcard itself
        f"-Dlog4j2.configurationFile={KAFKA_LOG4J}",
        main_class,
        *args,
    ]


def kafka_cluster_id() -> str:
    """Kafka's Uuid form: 16 random bytes, base64url; one starting with '-' would read as a flag."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


def format_kafka_storage(config: Path, data_dir: Path) -> None:
    if (data_dir / "meta.properties").exists():
        return
    # No meta.properties means never formatted or a failed format: start clean.
    shutil.rmtree(data_dir, ignore_errors=True)
    run(kafka_java("kafka.tools.StorageTool", "format", "-t", kafka_cluster_id(), "-c", str(config)))


def start_kafka(name: str, state: State) -> float | None:
    """Spawn Kafka unless ours is ready; returns when it was started (to wait on later), None if reused."""
    kafka = state.get("kafka", {})
    if reuse_or_stop("kafka", kafka.get("pid"), kafka_marker(name), lambda: kafka_answers(kafka["port"])):
        print(f"reusing kafka on {HOST}:{kafka['port']} (pid {kafka['pid']})")
        return None
    ensure_kafka_libs()
    started = time.monotonic()
    port = choose_port(name, "kafka", kafka.get("port"))
    controller_port = choose_port(name, "kafka-controller", kafka.get("controller_port"))
    data_dir = stack_dir(name) / "kafka-data"
    config = Path(kafka_marker(name))
    config.write_text(
        Template(KAFKA_TEMPLATE.read_text()).substitute(
            port=port,
            controller_port=controller_port,
            log_dirs=data_dir,
            group_join_delay_ms=state.get("kafka_group_join_delay_ms", 0),
        )
    )
    format_kafka_storage(config, data_dir)
    pid = spawn(
        kafka_java("kafka.Kafka", str(config), jvm=BROKER_JVM),
        log_path(name, "kafka"),
    )
    state["kafka"] = {"port": port, "controller_port": controller_port, "pid": pid}
    save_state(name, state)
    return started


def wait_for_kafka(name: str, state: State, started: float) -> None:
    kafka = state["kafka"]
    wait_ready("kafka", kafka["pid"], lambda: kafka_answers(kafka["port"]), log_path(name, "kafka"))
    print(f"kafka ready in {time.monotonic() - started:.1f} s on {HOST}:{kafka['port']} (pid {kafka['pid']})")


def kafka_healthy(name: str, kafka: State) -> bool:
    return is_running(kafka.get("pid"), kafka_marker(name)) and kafka_answers(kafka["port"])
