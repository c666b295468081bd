"""PostgreSQL from Debian's packages: one durable cluster per stack, one database per service."""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import time
from pathlib import Path

from .processes import choose_port, is_running, run
from .state import HOST, StackError, State, log_path, save_state, stack_dir

PG_USER = "atelier"
DATABASES = ("registration", "ticketing", "notifications")


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


def postgres_root(name: str, pg: State) -> Path:
    """Where the cluster lives, as the stack's state records it, or a new place. Root runs the server as
    'postgres', which may not reach a repo under a mode-700 directory, so its tree then lives in /var/tmp
    under a random name: a new clone at the same path, or a wiped stack, starts an empty cluster instead of
    finding the last one's databases (whose inboxes would remember offsets of a Kafka that is gone)."""
    if pg.get("root"):
        return Path(pg["root"])
    if not running_as_root():
        return stack_dir(name) / "postgres"
    return Path("/var/tmp") / f"atelier-pg-{secrets.token_hex(6)}"


def remove_postgres_cluster(state: State) -> None:
    """The stack's cluster, data and log, if its state records one."""
    if root := state.get("postgres", {}).get("root"):
        shutil.rmtree(root, ignore_errors=True)


def as_postgres_user(cmd: list[str | Path]) -> list[str | Path]:
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


def postgres_answers(pg: State) -> bool:
    cmd = [Path(pg["bin"]) / "pg_isready", "-q", "-h", HOST, "-p", str(pg["port"])]
    return subprocess.run(cmd, capture_output=True).returncode == 0


def postgres_healthy(pg: State) -> bool:
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


def postgres_running(pg: State) -> bool:
    data_dir = pg.get("data_dir")
    return bool(data_dir) and is_running(postmaster_pid(Path(data_dir)), data_dir)


def stop_postgres(pg: State) -> None:
    if not postgres_running(pg):
        return
    pid = postmaster_pid(Path(pg["data_dir"]))
    pg_ctl = Path(pg["bin"]) / "pg_ctl"
    run(as_postgres_user([pg_ctl, "-D", pg["data_dir"], "-m", "fast", "-w", "-t", "60", "stop"]), cwd=pg["root"])
    print(f"stopped postgres (pid {pid})")


def create_databases(pg: State) -> None:
    connect = ["-h", HOST, "-p", str(pg["port"]), "-U", PG_USER]
    for database in DATABASES:
        query = f"SELECT 1 FROM pg_database WHERE datname='{database}'"
        found = run([Path(pg["bin"]) / "psql", "-X", *connect, "-d", "postgres", "-tAc", query])
        if found.strip() != "1":
            run([Path(pg["bin"]) / "createdb", *connect, database])
            print(f"created database {database}")


def ensure_postgres(name: str, state: State) -> None:
    pg = state.get("postgres", {})
    if postgres_healthy(pg):
        print(f"reusing postgres on {HOST}:{pg['port']} (pid {pg['pid']})")
        # A stack started by an older checkout may still run with durability off.
        write_postgres_conf(Path(pg["root"]), Path(pg["data_dir"]), pg["port"])
        run(as_postgres_user([Path(pg["bin"]) / "pg_ctl", "-D", pg["data_dir"], "reload"]), cwd=pg["root"])
        create_databases(pg)
        return
    bin_dir = postgres_bin()
    root = postgres_root(name, pg)
    data_dir = root / "data"
    pg = {**pg, "bin": str(bin_dir), "root": str(root), "data_dir": str(data_dir)}
    state["postgres"] = pg
    save_state(name, state)  # before the cluster exists, so a wipe always finds it
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    give_to_postgres_user(root)
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
    save_state(name, state)
    link_postgres_log(name, log)
    print(f"postgres ready in {time.monotonic() - started:.1f} s on {HOST}:{pg['port']} (pid {pg['pid']})")
    create_databases(pg)


def link_postgres_log(name: str, log: Path) -> None:
    """So every log of the stack is found under logs/ (pg_ctl appends to it: nothing is lost on restart)."""
    link = log_path(name, "postgres")
    link.parent.mkdir(parents=True, exist_ok=True)
    if not link.is_symlink():
        link.symlink_to(log)
