# Chartflow: `make demo` runs the whole platform locally; `make test` runs every test against it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STACK := $(PYTHON) deploy/local/stack.py
# The stack's addresses (Kafka, Temporal, PostgreSQL) as shell exports.
WITH_STACK_ENV = set -a && eval "$$($(STACK) env)" && set +a
# Options of the whole-platform benchmark, e.g. make bench PIPELINE="--encounters 200 --postgres"
PIPELINE ?=
# Options of the backlog drain benchmark, e.g. make bench BACKLOG="--encounters 2000" (its
# default, a 10,000-encounter burst drained by coders at 10 s each, takes about 25 minutes)
BACKLOG ?=
# Instances of each service, e.g. make demo REPLICAS=2 or REPLICAS=coding=2,claims=3 (on
# PostgreSQL, which replicas share; docs/scaling.md)
REPLICAS ?=

.PHONY: help venv browser demo down status logs test lint unit bench rekey chaos clean

help:
	@echo "make demo    start Kafka, Temporal and the four services, run the sample encounters"
	@echo "             (REPLICAS=2 or REPLICAS=coding=2,claims=3: instances per service)"
	@echo "make test    the same set-up with PostgreSQL, then lint, type checks and the whole suite"
	@echo "make status  what runs, with ports       make down  stop everything make started"
	@echo "make logs    tail every log (or: make logs NAME=claims)"
	@echo "make rekey   re-encrypt every service's stored PHI under the newest keys (docs/security.md)"
	@echo "make chaos   kill each service, the broker and Temporal mid-stream; 1,000 encounters each"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

# Browser tests drive Debian's chromium (Playwright's own browser download is not reachable).
browser:
	@command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q --no-install-recommends chromium)

demo: export DEMO_STARTED_AT := $(shell date +%s.%N)
demo: venv
	$(STACK) up --services $(if $(REPLICAS),--postgres --replicas $(REPLICAS))
	$(WITH_STACK_ENV) && $(BIN)/python -m deploy.demo

down:
	$(STACK) down

status:
	$(STACK) status

logs:
	$(STACK) logs $(NAME)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

unit: venv
	$(BIN)/pytest tests/unit -q

test: venv lint browser
	$(STACK) up --postgres
	$(WITH_STACK_ENV) && $(BIN)/pytest

bench: venv
	$(BIN)/python -m bench.codes
	$(BIN)/python -m bench.claims
	$(BIN)/python -m bench.pipeline $(PIPELINE)
	$(STACK) up --postgres
	$(WITH_STACK_ENV) && $(BIN)/python -m bench.intake
	$(WITH_STACK_ENV) && $(BIN)/python -m bench.backlog $(BACKLOG)

# After `python -m shared.keys rotate` and a restart of the services (docs/security.md); with
# the DATABASE_URL the services use (unset: their SQLite files under var/data).
rekey: venv
	for service in intake assignment coding claims; do \
		$(BIN)/python -m services.$$service rekey || exit 1; \
	done

# CHAOS_ARGS: e.g. --encounters 200 --seed 42 --faults claims,kafka (python -m tests.chaos -h)
# It brings up Kafka, Temporal and PostgreSQL itself (stack.py up --postgres).
chaos: venv
	$(BIN)/python -m tests.chaos $(CHAOS_ARGS)

clean: down
	rm -rf var $(VENV)
