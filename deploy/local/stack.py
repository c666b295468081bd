"""Run the Atelier stack on loopback, without Docker.

Kafka (KRaft, jars resolved by Maven), PostgreSQL (Debian package), an SMTP
sink writing a Maildir, and the three services. Each runs as a detached
process whose PID is recorded in .local/stacks/<name>/state.json; `down`
stops those PIDs and nothing else.

    python deploy/local/stack.py up [--name NAME] [--infra-only]
    python deploy/local/stack.py down|env|status [--name NAME]

Standard library only: it runs before the workspace packages are installed.
Tests import it (`ensure_infra`, `free_port`) from deploy/local.
"""

from __future__ import annotations

import argparse
import base64
import glob
import hashlib
import json
import os
import pwd
import secrets
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from string import Template

from stack_settings import dev_sealing_keys, local_settings

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LOCAL = REPO / ".local"
KAFKA_POM = HERE / "kafka" / "pom.xml"
KAFKA_TEMPLATE = HERE / "kafka" / "server.properties.template"
KAFKA_LOG4J = HERE / "kafka" / "log4j2.properties"
KAFKA_LIBS = LOCAL / "cache" / "kafka-libs"
KAFKA_LIBS_STAMP = KAFKA_LIBS / ".complete"
MAVEN_REPO = LOCAL / "cache" / "m2"

HOST = "127.0.0.1"
PG_USER = "atelier"
DATABASES = ("registration", "ticketing", "notifications")
SERVICES = (*DATABASES, "web")  # web: the participant pages, no database of its own
DEV_PORTS = {
    "kafka": 9092,
    "postgres": 5432,
    "smtp": 1025,
    "registration": 8001,
    "ticketing": 8002,
    "notifications": 8003,
    "web": 8000,
}
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class StackError(Exception):
    """A failure worth one clear message rather than a traceback."""


# --- state -----------------------------------------------------------------


def stack_dir(name: str) -> Path:
    return LOCAL / "stacks" / name


def state_path(name: str) -> Path:
    return stack_dir(name) / "state.json"


def env_path(name: str) -> Path:
    return stack_dir(name) / "env"


def log_path(name: str, component: str) -> Path:
    return stack_dir(name) / "logs" / f"{component}.log"


def load_state(name: str) -> dict:
    state = json.loads(state_path(name).read_text()) if state_path(name).exists() else {"name": name}
    # Secrets live as long as the stack's state, so they survive down/up.
    state.setdefault("admin_token", secrets.token_hex(16))
    state.setdefault("notifications_admin_token", secrets.token_hex(16))
    state.setdefault("ticketing_signing_key", base64.b64encode(secrets.token_bytes(32)).decode())
    state.setdefault("ticketing_conductor_token", secrets.token_hex(16))
    return state


def save_state(name: str, state: dict) -> None:
    path = state_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.chmod(0o600)  # holds the admin tokens and ticketing's secrets
    tmp.replace(path)


# --- ports -----------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # Servers set SO_REUSEADDR too, so TIME_WAIT leftovers don't count as busy.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def choose_port(name: str, component: str, previous: int | None) -> int:
    """Dev prefers the usual defaults; otherwise keep the stack's previous port so its env stays valid."""
    default = DEV_PORTS.get(component) if name == "dev" else None
    if default and port_is_free(default):
        return default
    port = previous if previous and port_is_free(previous) else free_port()
    if default:
        print(f"port {default} busy, using {port}")
    return port


# --- processes -------------------------------------------------------------


def is_alive(pid: int) -> bool:
    """Exists and has not exited (an exited child not yet reaped is a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def is_running(pid: int | None, marker: str) -> bool:
    """Alive and still the process we started (PIDs get reused)."""
    if not pid or not is_alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return marker in cmdline.replace(b"\0", b" ").decode(errors="replace")


def spawn(cmd: list[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start a process in its own session so it outlives us and ignores our Ctrl-C."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return proc.pid


def run(cmd: list, cwd: Path | None = None, detach: bool = False, **kwargs) -> str:
    result = subprocess.run(
        [str(part) for part in cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        start_new_session=detach,
        **kwargs,
    )
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip()
        raise StackError(f"{Path(str(cmd[0])).name} failed (exit {result.returncode}):\n{output}")
    return result.stdout


def wait_until(probe: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(interval)
    return probe()


def tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"


def wait_ready(label: str, pid: int, probe: Callable[[], bool], log: Path) -> None:
    """`pid` is a child we just spawned and have not reaped, so its PID cannot have been reused: checking
    its command line as well once failed while the process was fine."""

    def ready() -> bool:
        if not is_alive(pid):
            raise StackError(f"{label} exited during start-up; last lines of {log}:\n{tail(log)}")
        return probe()

    if not wait_until(ready, READY_TIMEOUT):
        raise StackError(f"{label} not ready after {READY_TIMEOUT:.0f} s; last lines of {log}:\n{tail(log)}")


def signal_process(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def reap(pid: int) -> None:
    """Collect our own exited children (tests start and stop in one process)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_processes(targets: list[tuple[str, int | None, str]]) -> None:
    """SIGTERM every recorded process that is still ours, then SIGKILL stragglers."""
    running = [(label, pid, marker) for label, pid, marker in targets if is_running(pid, marker)]
    for _, pid, _ in running:
        signal_process(pid, signal.SIGTERM)

    def all_gone() -> bool:
        for _, pid, _ in running:
            reap(pid)
        return not any(is_running(pid, marker) for _, pid, marker in running)

    if not wait_until(all_gone, STOP_TIMEOUT):
        for label, pid, marker in running:
            if is_running(pid, marker):
                print(f"{label} ignored SIGTERM for {STOP_TIMEOUT:.0f} s, killing")
                signal_process(pid, signal.SIGKILL)
        wait_until(all_gone, 5)
    for label, pid, _ in running:
        print(f"stopped {label} (pid {pid})")


def require_tool(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise StackError(f"'{tool}' not found on PATH")
    return path


# --- kafka -----------------------------------------------------------------


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
    return correlation_id == 1 and error_code == 0


def kafka_healthy(name: str, kafka: dict) -> bool:
    return is_running(kafka.get("pid"), kafka_marker(name)) and kafka_answers(kafka["port"])


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


def kafka_java(main_class: str, *args: str, heap: tuple[str, ...] = ()) -> list[str]:
    return [
        require_tool("java"),
        *heap,
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


def start_kafka(name: str, state: dict) -> float | None:
    """Spawn Kafka unless healthy; returns when it was started (to wait on later), None if reused."""
    kafka = state.get("kafka", {})
    if kafka_healthy(name, kafka):
        print(f"reusing kafka on {HOST}:{kafka['port']} (pid {kafka['pid']})")
        return None
    ensure_kafka_libs()
    started = time.monotonic()
    port = choose_port(name, "kafka", kafka.get("port"))
    controller_port = choose_port(name, "kafka-controller", kafka.get("controller_port"))
    data_dir = stack_dir(name) / "kafka-data"
    config = Path(kafka_marker(name))
    config.write_text(
        Template(KAFKA_TEMPLATE.read_text()).substitute(port=port, controller_port=controller_port, log_dirs=data_dir)
    )
    format_kafka_storage(config, data_dir)
    pid = spawn(
        kafka_java("kafka.Kafka", str(config), heap=("-Xmx512m", "-Xms256m")),
        log_path(name, "kafka"),
    )
    state["kafka"] = {"port": port, "controller_port": controller_port, "pid": pid}
    save_state(name, state)
    return started


def wait_for_kafka(name: str, state: dict, started: float) -> None:
    kafka = state["kafka"]
    wait_ready(
        "kafka",
        kafka["pid"],
        lambda: kafka_answers(kafka["port"]),
        log_path(name, "kafka"),
    )
    print(f"kafka ready in {time.monotonic() - started:.1f} s on {HOST}:{kafka['port']} (pid {kafka['pid']})")


# --- postgres --------------------------------------------------------------


def running_as_root() -> bool:
    return os.geteuid() == 0


def postgres_bin_dirs() -> list[Path]:
    return [Path(initdb).parent for initdb in glob.glob("/usr/lib/postgresql/*/bin/initdb")]


def install_postgres() -> None:
    if not running_as_root():
        raise StackError(
            "PostgreSQL server not found (/usr/lib/postgresql/*/bin/initdb); "
            "install it with: sudo apt-get install -y postgresql"
        )
    print("installing postgresql with apt-get...")
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update"], env=apt_env)
    run(["apt-get", "install", "-y", "postgresql"], env=apt_env)


def postgres_bin() -> Path:
    if not postgres_bin_dirs():
        install_postgres()
    return max(postgres_bin_dirs(), key=lambda path: int(path.parent.name))


def postgres_root(name: str) -> Path:
    """Root runs the server as 'postgres', which may not reach a repo under a mode-700
    directory, so its tree then lives in /var/tmp, keyed by the stack's state dir."""
    if not running_as_root():
        return stack_dir(name) / "postgres"
    key = hashlib.sha1(str(stack_dir(name).resolve()).encode()).hexdigest()[:12]
    return Path("/var/tmp") / f"atelier-pg-{key}"


def as_postgres_user(cmd: list) -> list:
    # The server refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *cmd] if running_as_root() else cmd


def give_to_postgres_user(path: Path) -> None:
    if running_as_root():
        account = pwd.getpwnam("postgres")
        os.chown(path, account.pw_uid, account.pw_gid)


def postmaster_pid(data_dir: Path) -> int | None:
    try:
        return int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def postgres_answers(pg: dict) -> bool:
    cmd = [Path(pg["bin"]) / "pg_isready", "-q", "-h", HOST, "-p", str(pg["port"])]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def postgres_healthy(pg: dict) -> bool:
    if not pg.get("data_dir"):
        return False
    pid = postmaster_pid(Path(pg["data_dir"]))
    return pid == pg.get("pid") and is_running(pid, pg["data_dir"]) and postgres_answers(pg)


def init_postgres_cluster(bin_dir: Path, root: Path, data_dir: Path) -> None:
    if (data_dir / "PG_VERSION").exists():
        return
    shutil.rmtree(data_dir, ignore_errors=True)  # initdb refuses a half-made directory
    started = time.monotonic()
    run(
        as_postgres_user(
            [
                bin_dir / "initdb",
                "-D",
                data_dir,
                "--auth=trust",
                f"--username={PG_USER}",
                "--encoding=UTF8",
                "--no-locale",
            ]
        ),
        cwd=root,
    )
    with open(data_dir / "postgresql.conf", "a") as conf:
        conf.write("\ninclude 'atelier.conf'\n")
    print(f"postgres initdb in {time.monotonic() - started:.1f} s")


def write_postgres_conf(root: Path, data_dir: Path, port: int) -> None:
    """Rewritten on every start, so a new port or socket dir just works."""
    conf = data_dir / "atelier.conf"
    socket_dir = str(root).replace("'", "''")
    conf.write_text(
        f"port = {port}\n"
        f"listen_addresses = '{HOST}'\n"
        f"unix_socket_directories = '{socket_dir}'\n"
        "max_connections = 200\n"
        # Durable in every stack: a 201 or a committed Kafka offset means the effect is on disk.
        "fsync = on\n"
        "synchronous_commit = on\n"
        "full_page_writes = on\n"
    )
    give_to_postgres_user(conf)


def stop_postgres(pg: dict) -> None:
    data_dir = Path(pg.get("data_dir", "/nonexistent"))
    pid = postmaster_pid(data_dir)
    if not is_running(pid, str(data_dir)):
        return
    pg_ctl = Path(pg["bin"]) / "pg_ctl"
    run(as_postgres_user([pg_ctl, "-D", data_dir, "-m", "fast", "-w", "-t", "60", "stop"]), cwd=pg["root"])
    print(f"stopped postgres (pid {pid})")


def create_databases(pg: dict) -> None:
    connect = ["-h", HOST, "-p", str(pg["port"]), "-U", PG_USER]
    for database in DATABASES:
        query = f"SELECT 1 FROM pg_database WHERE datname='{database}'"
        found = run([Path(pg["bin"]) / "psql", "-X", *connect, "-d", "postgres", "-tAc", query])
        if found.strip() != "1":
            run([Path(pg["bin"]) / "createdb", *connect, database])
            print(f"created database {database}")


def ensure_postgres(name: str, state: dict) -> None:
    pg = state.get("postgres", {})
    if postgres_healthy(pg):
        print(f"reusing postgres on {HOST}:{pg['port']} (pid {pg['pid']})")
        # A stack started by an older checkout may still run with durability off.
        write_postgres_conf(Path(pg["root"]), Path(pg["data_dir"]), pg["port"])
        run(as_postgres_user([Path(pg["bin"]) / "pg_ctl", "-D", pg["data_dir"], "reload"]), cwd=pg["root"])
        create_databases(pg)
        return
    bin_dir = postgres_bin()
    root = postgres_root(name)
    data_dir = root / "data"
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    give_to_postgres_user(root)
    pg = {**pg, "bin": str(bin_dir), "root": str(root), "data_dir": str(data_dir)}
    stop_postgres(pg)  # ours, but on another port or unrecorded: restart it cleanly
    init_postgres_cluster(bin_dir, root, data_dir)
    pg["port"] = choose_port(name, "postgres", pg.get("port"))
    write_postgres_conf(root, data_dir, pg["port"])
    log = root / "postgres.log"  # the postgres user may not write into the repo
    started = time.monotonic()
    run(
        as_postgres_user([bin_dir / "pg_ctl", "-D", data_dir, "-l", log, "-w", "-t", "60", "start"]),
        cwd=root,
        detach=True,
    )
    pg["pid"] = postmaster_pid(data_dir)
    state["postgres"] = pg
    save_state(name, state)
    link_postgres_log(name, log)
    print(f"postgres ready in {time.monotonic() - started:.1f} s on {HOST}:{pg['port']} (pid {pg['pid']})")
    create_databases(pg)


def link_postgres_log(name: str, log: Path) -> None:
    """So every log of the stack is found under logs/."""
    link = log_path(name, "postgres")
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(log)


# --- smtp ------------------------------------------------------------------


def maildir(name: str) -> Path:
    return (stack_dir(name) / "maildir").resolve()


def smtp_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            greeting = sock.recv(512)
            sock.sendall(b"QUIT\r\n")
    except OSError:
        return False
    return greeting.startswith(b"220")


def ensure_smtp(name: str, state: dict) -> None:
    smtp = state.get("smtp", {})
    marker = str(maildir(name))
    if is_running(smtp.get("pid"), marker) and smtp_answers(smtp["port"]):
        print(f"reusing smtp on {HOST}:{smtp['port']} (pid {smtp['pid']})")
        return
    port = choose_port(name, "smtp", smtp.get("port"))
    pid = spawn(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{port}", "-c", "aiosmtpd.handlers.Mailbox", marker],
        log_path(name, "smtp"),
    )
    state["smtp"] = {"port": port, "pid": pid}
    save_state(name, state)
    wait_ready("smtp", pid, lambda: smtp_answers(port), log_path(name, "smtp"))
    print(f"smtp ready on {HOST}:{port} (pid {pid}), mail in {marker}")


# --- services --------------------------------------------------------------


def service_marker(service: str) -> str:
    return f"-m {service}"


# No proxies: readiness checks must never leave loopback.
LOOPBACK_HTTP = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def service_answers(port: int) -> bool:
    """Ready, and connected to Kafka (a service serves without it, but the stack is not up until it is).
    The web pages use no Kafka: their /readyz has no `kafka` field."""
    try:
        with LOOPBACK_HTTP.open(f"http://{HOST}:{port}/readyz", timeout=2) as response:
            return response.status == 200 and json.load(response).get("kafka", "ok") == "ok"
    except (OSError, ValueError):
        return False


def service_healthy(service: str, record: dict) -> bool:
    return is_running(record.get("pid"), service_marker(service)) and service_answers(record["port"])


SOURCE_SUFFIXES = {".py", ".sql", ".csv", ".j2", ".html", ".txt", ".js", ".css"}


def code_version() -> str:
    """A fingerprint of the Python sources: a service started from older code is restarted."""
    digest = hashlib.sha1()
    for folder in ("services", "libs", "schemas"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix in SOURCE_SUFFIXES and ".venv" not in path.parts:
                stat = path.stat()
                digest.update(f"{path}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def service_urls(services: dict) -> dict[str, str]:
    return {f"{svc.upper()}_URL": f"http://{HOST}:{services[svc]['port']}" for svc in SERVICES}


def start_services(name: str, state: dict, infra: dict[str, str]) -> dict[str, str]:
    """Start the services that are not healthy; returns their URL variables."""
    services = state.setdefault("services", {})
    version = code_version()
    to_start = []
    for service in SERVICES:
        record = services.get(service, {})
        workers = os.environ.get(f"{service.upper()}_WORKERS", "1")
        if service_healthy(service, record):
            if (record.get("code_version"), record.get("workers", "1")) == (version, workers):
                print(f"reusing {service} on {HOST}:{record['port']} (pid {record['pid']})")
                continue
            print(f"restarting {service}: its code or {service.upper()}_WORKERS changed")
            stop_processes([(service, record["pid"], service_marker(service))])
        services[service] = {
            "port": choose_port(name, service, record.get("port")),
            "code_version": version,
            "workers": workers,
        }
        to_start.append(service)
    urls = service_urls(services)
    ports = {f"{svc.upper()}_PORT": str(services[svc]["port"]) for svc in SERVICES}
    # The email links point at the participant pages this stack really serves (an explicit value wins).
    public = {"REGISTRATION_PUBLIC_URL": os.environ.get("REGISTRATION_PUBLIC_URL") or urls["WEB_URL"]}
    env = {**os.environ, **infra, **urls, **ports, **public}
    for service in to_start:
        services[service]["pid"] = spawn([sys.executable, "-m", service], log_path(name, service), env)
    save_state(name, state)
    started = time.monotonic()  # they start side by side, so each time counts from here
    for service in to_start:
        record = services[service]
        wait_ready(
            service,
            record["pid"],
            lambda port=record["port"]: service_answers(port),
            log_path(name, service),
        )
        print(f"{service} ready in {time.monotonic() - started:.1f} s on {HOST}:{record['port']}")
    return {**urls, **public}


# --- commands --------------------------------------------------------------


def infra_env(name: str, state: dict) -> dict[str, str]:
    pg_port = state["postgres"]["port"]
    env = {"KAFKA_BOOTSTRAP_SERVERS": f"{HOST}:{state['kafka']['port']}"}
    for database in DATABASES:
        env[f"{database.upper()}_DATABASE_URL"] = f"postgresql://{PG_USER}@{HOST}:{pg_port}/{database}"
    env["SMTP_HOST"] = HOST
    env["SMTP_PORT"] = str(state["smtp"]["port"])
    env["SMTP_MAILDIR"] = str(maildir(name))
    env["REGISTRATION_ADMIN_TOKEN"] = state["admin_token"]
    env["TICKETING_SIGNING_KEY"] = state["ticketing_signing_key"]
    env["TICKETING_CONDUCTOR_TOKEN"] = state["ticketing_conductor_token"]
    env["NOTIFICATIONS_ADMIN_TOKEN"] = state["notifications_admin_token"]
    env.update(local_settings(name, state))
    # One copy of each service on its own database: each migrates as it starts.
    env.update({f"{service.upper()}_MIGRATE_ON_START": "true" for service in SERVICES})
    return env


def start_infra(name: str, state: dict) -> dict[str, str]:
    state.setdefault("sealing_keys", dev_sealing_keys())
    save_state(name, state)  # keep the admin token from the first moment
    # Kafka's JVM starts while Postgres and SMTP come up.
    kafka_started = start_kafka(name, state)
    ensure_postgres(name, state)
    ensure_smtp(name, state)
    if kafka_started is not None:
        wait_for_kafka(name, state, kafka_started)
    return infra_env(name, state)


def ensure_infra(name: str) -> dict[str, str]:
    """Start or reuse Kafka, Postgres and SMTP for a stack; returns their env variables."""
    return start_infra(name, load_state(name))


def up(name: str, infra_only: bool) -> None:
    state = load_state(name)
    env = start_infra(name, state)
    if not infra_only:
        env.update(start_services(name, state, env))
    exports = "".join(f"export {key}={shlex.quote(value)}\n" for key, value in env.items())
    env_path(name).write_text(exports)
    env_path(name).chmod(0o600)
    print()
    print(exports, end="")
    if name == "dev":
        print("stop it with: make down")
    else:
        print(f"stop it with: python deploy/local/stack.py down --name {name}")


def recorded_processes(name: str, state: dict) -> list[tuple[str, int | None, str]]:
    services = state.get("services", {})
    return [
        *[(svc, services[svc].get("pid"), service_marker(svc)) for svc in SERVICES if svc in services],
        ("smtp", state.get("smtp", {}).get("pid"), str(maildir(name))),
        ("kafka", state.get("kafka", {}).get("pid"), kafka_marker(name)),
    ]


def down(name: str) -> None:
    if not state_path(name).exists():
        print(f"no stack '{name}'")
        return
    state = load_state(name)
    processes = recorded_processes(name, state)
    services = [entry for entry in processes if entry[0] in SERVICES]
    stop_processes(services)  # first, so they don't log errors about vanished infra
    stop_processes([entry for entry in processes if entry[0] not in SERVICES])
    stop_postgres(state.get("postgres", {}))
    leftovers = [label for label, pid, marker in processes if is_running(pid, marker)]
    pg = state.get("postgres", {})
    if pg.get("data_dir") and is_running(postmaster_pid(Path(pg["data_dir"])), pg["data_dir"]):
        leftovers.append("postgres")
    if leftovers:
        raise StackError(f"still running: {', '.join(leftovers)}")
    for record in [state.get(key, {}) for key in ("kafka", "postgres", "smtp")] + list(
        state.get("services", {}).values()
    ):
        record.pop("pid", None)  # ports and token stay, for the next up
    save_state(name, state)
    env_path(name).unlink(missing_ok=True)
    print(f"stack '{name}' is down")


def print_env(name: str) -> None:
    if not env_path(name).exists():
        raise StackError(f"stack '{name}' is not up; start it with: python deploy/local/stack.py up --name {name}")
    print(env_path(name).read_text(), end="")


def status(name: str) -> bool:
    """Print one line per component; True when every started component is healthy."""
    state = load_state(name) if state_path(name).exists() else {}
    checks = {
        "kafka": lambda rec: kafka_healthy(name, rec),
        "postgres": postgres_healthy,
        "smtp": lambda rec: is_running(rec.get("pid"), str(maildir(name))) and smtp_answers(rec["port"]),
    }
    for service in SERVICES:
        checks[service] = lambda rec, service=service: service_healthy(service, rec)
    all_healthy = True
    for component, healthy in checks.items():
        record = state.get(component, state.get("services", {}).get(component))
        if not record or not record.get("pid"):
            print(f"{component:<14} stopped")
            continue
        ok = healthy(record)
        all_healthy = all_healthy and ok
        print(f"{component:<14} {'healthy' if ok else 'DOWN':<8} {HOST}:{record['port']} pid {record['pid']}")
    return all_healthy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run the Atelier stack on loopback.")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in ("up", "down", "env", "status"):
        sub = commands.add_parser(command)
        sub.add_argument("--name", default="dev", help="stack name (default: dev)")
        if command == "up":
            sub.add_argument("--infra-only", action="store_true", help="Kafka, Postgres and SMTP only")
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            up(args.name, args.infra_only)
        elif args.command == "down":
            down(args.name)
        elif args.command == "env":
            print_env(args.name)
        elif not status(args.name):
            return 1
    except StackError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
