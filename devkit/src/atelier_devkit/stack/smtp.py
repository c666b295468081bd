"""An SMTP sink (aiosmtpd on uvloop, `atelier_devkit.smtp_server`) that writes every email of the stack into a
Maildir."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from .processes import choose_port, is_running, reuse_or_stop, spawn, wait_ready
from .state import HOST, State, log_path, save_state, stack_dir


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


def smtp_healthy(name: str, smtp: State) -> bool:
    return is_running(smtp.get("pid"), str(maildir(name))) and smtp_answers(smtp["port"])


def ensure_smtp(name: str, state: State) -> None:
    smtp = state.get("smtp", {})
    marker = str(maildir(name))
    if reuse_or_stop("smtp", smtp.get("pid"), marker, lambda: smtp_answers(smtp["port"])):
        print(f"reusing smtp on {HOST}:{smtp['port']} (pid {smtp['pid']})")
        return
    port = choose_port(name, "smtp", smtp.get("port"))
    pid = spawn(
        [sys.executable, "-m", "atelier_devkit.smtp_server", f"{HOST}:{port}", marker],
        log_path(name, "smtp"),
    )
    state["smtp"] = {"port": port, "pid": pid}
    save_state(name, state)
    wait_ready("smtp", pid, lambda: smtp_answers(port), log_path(name, "smtp"))
    print(f"smtp ready on {HOST}:{port} (pid {pid}), mail in {marker}")
