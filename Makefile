# Atelier: two commands on a fresh machine — `make demo` runs it, `make test` tests it.
PYTHON ?= python3
VENV_PY := .venv/bin/python
UV_VERSION := 0.13.8
# The services with topics (the participant pages, web, have none).
SERVICES := $(filter-out web,$(notdir $(wildcard services/*)))

.PHONY: help install browser-tools demo mailbox up down clean status test test-unit lint seed report bench bench-registration \
	bench-ticketing bench-notifications chaos contracts release-schemas replay-dlq dlq-sizes images k8s-smoke prometheus

help: ## list the commands
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

install: ## install uv if missing, then the locked workspace into .venv, and the pinned npm assets of /docs and /asyncapi
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet "uv==$(UV_VERSION)"
	@uv sync --locked --quiet
	@deploy/local/npm_assets.sh

demo: install ## start Kafka, Postgres, SMTP and the services, then walk one registration through
	@$(VENV_PY) deploy/local/stack.py up
	@echo
	@$(VENV_PY) deploy/local/demo.py

mailbox: ## the dev stack's received emails as one page (.local/stacks/dev/mailbox.html); prints its address
	@$(PYTHON) deploy/local/local_mailbox.py

up: install ## start the dev stack without the demo
	@$(VENV_PY) deploy/local/stack.py up

status: ## is every part of the dev stack healthy?
	@$(PYTHON) deploy/local/stack.py status

down: ## stop every stack this checkout started (dev, test, benchmarks)
	@for stack in .local/stacks/*/; do \
	  [ -f "$$stack/state.json" ] && $(PYTHON) deploy/local/stack.py down --name "$$(basename "$$stack")"; \
	done; true

clean: ## stop every stack this checkout started and delete their data (databases, topics, mail, logs)
	@for stack in .local/stacks/*/; do \
	  [ -d "$$stack" ] && $(PYTHON) deploy/local/stack.py wipe --name "$$(basename "$$stack")"; \
	done; true

test: install browser-tools prometheus ## the whole suite on real Kafka, Postgres and SMTP (started or reused as the `test` stack)
	@$(VENV_PY) -m pytest

browser-tools: ## headless Chromium + chromium-driver (apt) for tests/e2e/browser, when missing
	@deploy/local/browser_tools.sh

test-unit: install prometheus ## unit tests only, no servers
	@$(VENV_PY) -m pytest tests/unit

lint: install ## ruff, then mypy --strict on services/, libs/ and schemas/ (settings in pyproject.toml)
	@uv run --quiet ruff check .
	@uv run --quiet mypy

seed: up ## load four weeks of sample sessions and coaching slots into the dev stack
	@. .local/stacks/dev/env && $(VENV_PY) -m registration seed

report: up ## progress toward the 10,000-people goal, as a table
	@. .local/stacks/dev/env && $(VENV_PY) -m registration report

bench: install ## the whole chain, request to voucher email, on a fresh stack of its own: burst, paced, CPU, raw floor
	@$(VENV_PY) bench/chain.py $(BENCH_ARGS)

bench-registration: install ## registration throughput on a fresh stack of its own; prints a table
	@$(VENV_PY) bench/registration_throughput.py

bench-ticketing: install ## vouchers per second ticketing's consumer issues on real Kafka and Postgres
	@$(VENV_PY) bench/ticketing_throughput.py

bench-notifications: install ## messages per second notifications delivers to a local SMTP server
	@$(VENV_PY) bench/notifications_throughput.py

chaos: install ## 1,000 registrations through every fault of tests/faults at once, on a stack of its own; prints a table
	@$(VENV_PY) bench/chaos.py

contracts: install ## regenerate the JSON Schema files and AsyncAPI documents, then run the compatibility guard
	@$(VENV_PY) -m atelier_schemas json-schema schemas/jsonschema
	@$(VENV_PY) -m atelier_platform.asyncapi_docs docs/asyncapi $(SERVICES)
	@$(VENV_PY) -m atelier_schemas compatibility schemas/released

release-schemas: install ## record the current schemas as released (refused if one breaks the last release)
	@$(VENV_PY) -m atelier_schemas release schemas/released

replay-dlq: install ## move dead letters back: DLQ=<topic>.dlq [GROUP=<consumer group>] [DRY_RUN=1]
	@test -n "$(DLQ)" || { echo "usage: make replay-dlq DLQ=registration.events.dlq [GROUP=ticketing] [DRY_RUN=1]"; exit 2; }
	@$(VENV_PY) -m atelier_platform.replay --from "$(DLQ)" $(if $(GROUP),--group "$(GROUP)") $(if $(DRY_RUN),--dry-run)

dlq-sizes: install ## records waiting in each dead-letter topic of KAFKA_BOOTSTRAP_SERVERS
	@$(VENV_PY) -m atelier_platform.topics dlq-sizes

images: install ## build one image per service (podman, installed when missing, or docker); prints their sizes
	@$(VENV_PY) deploy/images/build.py --quiet

k8s-smoke: install prometheus ## build the images, run the Kubernetes `local` overlay under podman kube play, walk a registration, scrape the pods, drain one
	@$(VENV_PY) deploy/k8s/smoke.py

prometheus: ## Prometheus and promtool from Debian's packages when missing (the alert tests use them); never left running
	@command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || { \
	  echo "installing prometheus with apt-get..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  systemctl disable --now prometheus >/dev/null 2>&1 || service prometheus stop >/dev/null 2>&1 || true; }
