"""Where a stack keeps its state (ports, PIDs, secrets) and logs: .local/stacks/<name>/."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[4]
LOCAL = REPO / ".local"
HOST = "127.0.0.1"

State = dict[str, Any]


class StackError(Exception):
    """A failure worth one clear message rather than a traceback."""


def stack_dir(name: str) -> Path:
    return LOCAL / "stacks" / name


def state_path(name: str) -> Path:
    return stack_dir(name) / "state.json"


def env_path(name: str) -> Path:
    return stack_dir(name) / "env"


def log_path(name: str, component: str) -> Path:
    return stack_dir(name) / "logs" / f"{component}.log"


def load_state(name: str) -> State:
    state: State = json.loads(state_path(name).read_text()) if state_path(name).exists() else {"name": name}
    # Secrets live as long as the stack's state, so they survive down/up.
    state.setdefault("admin_token", secrets.token_hex(16))
    state.setdefault("notifications_admin_token", secrets.token_hex(16))
    state.setdefault("ticketing_signing_key", base64.b64encode(secrets.token_bytes(32)).decode())
    state.setdefault("ticketing_conductor_token", secrets.token_hex(16))
    return state


def save_state(name: str, state: State) -> None:
    path = state_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.chmod(0o600)  # holds the admin tokens and ticketing's secrets
    tmp.replace(path)
