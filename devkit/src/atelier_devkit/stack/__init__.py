"""Run the Atelier stack on loopback, without Docker.

Kafka (KRaft, jars resolved by Maven), PostgreSQL (Debian package), an SMTP sink writing a
Maildir, and the services. Each runs as a detached process whose PID is recorded in
.local/stacks/<name>/state.json until it is stopped; `down` stops those PIDs and nothing else.

    python deploy/local/stack.py up [--name NAME] [--infra-only]
    python deploy/local/stack.py down|env|status [--name NAME]

One module per concern: `state` (the state file and paths), `processes` (spawning, readiness,
stopping, ports), `kafka`, `postgres`, `smtp`, `services`, `infra` (the three servers together)
and `cli`. Standard library only: the launcher runs before the workspace packages are installed.
"""
