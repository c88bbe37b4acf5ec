# Undersigned: `make run` serves the demo letter on 127.0.0.1:8000; `make test` runs lint, migration check and tests.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Gossip, mingle and heartbeat serve monitoring and multi-node sync this app does not use; each is one more broker
# channel to lose and rebuild in an outage. The fault suite starts its worker with these flags too.
CELERY_WORKER_FLAGS ?= --without-gossip --without-mingle --without-heartbeat

.PHONY: run test test-faults lint format migrate demo worker worker-bulk worker-supervised beat bench bench-smoke browsers clean

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required (python3.11 not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements.txt
	@touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(VENV)/bin/python
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	@touch $@ $(VENV)/.runtime

var:
	@mkdir -p var

migrate: $(VENV)/.runtime var
	DEBUG=$${DEBUG:-1} $(PY) manage.py migrate --noinput

# The log's development key comes first: the demo's public changes are logged and checkpointed as they are made.
# Every step sees the SITE_URL the server will have: the log's origin and the demo's links follow HOST and PORT.
demo: migrate
	DEBUG=$${DEBUG:-1} $(RUN_SITE_URL)$(PY) manage.py transparency_keygen
	DEBUG=$${DEBUG:-1} EMAIL_URL=dummymail://localhost $(RUN_SITE_URL)$(PY) manage.py load_demo  # its signers are made up: no mail
	DEBUG=$${DEBUG:-1} $(RUN_SITE_URL)$(PY) manage.py ensure_dev_admin

# Links in emails follow HOST and PORT unless SITE_URL is set in the environment or .env (which the environment beats).
RUN_SITE_URL = $(if $(SITE_URL)$(shell grep -Es '^(export )?SITE_URL=.' .env),,SITE_URL=http://$(HOST):$(PORT) )

run: demo
	@echo "Serving on http://$(HOST):$(PORT)/  (admin: http://$(HOST):$(PORT)/admin/, API docs: http://$(HOST):$(PORT)/api/v1/docs/)"
	DEBUG=$${DEBUG:-1} $(RUN_SITE_URL)$(PY) manage.py runserver $(HOST):$(PORT)

# Debian's Chromium for the browser tests; never a downloaded browser build. Failure leaves those tests skipped.
browsers:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
	      || echo "warning: could not install Chromium; browser tests will be skipped"; \
	  else echo "warning: Chromium missing and apt-get unavailable; browser tests will be skipped"; fi; \
	fi

lint: $(VENV)/.dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	DEBUG=1 $(VENV)/bin/mypy

format: $(VENV)/.dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# LINT= skips the lint step (CI lints once, on its first pass); PYTEST_ARGS="-n 2" runs the suite on two processes
# (pytest-xdist; each has its own test database and Redis database).
LINT ?= lint
test: $(VENV)/.dev var browsers $(LINT)
	DEBUG=1 $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# The fault suite (tests/faults, marked `faults`, left out of `make test`): its own PostgreSQL, Redis and SMTP sink
# on private ports, the real app under gunicorn with a Celery worker per queue and beat, faults injected under
# bounded load.
# Needs initdb/pg_ctl and redis-server; a few minutes.
test-faults: $(VENV)/.dev var
	$(VENV)/bin/pytest -m faults tests/faults $(FAULTS_ARGS)

# Two queues (config/settings.py, BULK_TASKS): QUEUE=celery, the short time-critical tasks (outbox, counts,
# checkpoints, webhooks, alerts), and QUEUE=bulk, the long jobs (imports, invalidations, duplicate scans and checks,
# re-consent batches). Production runs one worker for each, so a long job never holds up an email or a checkpoint:
# `make worker` and `make worker-bulk` (or QUEUE=celery,bulk for one worker taking both, which gives that up).
QUEUE ?= celery
CONCURRENCY ?= 2
BULK_CONCURRENCY ?= 2
comma := ,
CELERY_WORKER = $(VENV)/bin/celery -A config worker --loglevel=INFO --queues=$(QUEUE) \
	--hostname=$(subst $(comma),+,$(QUEUE))@%h --concurrency=$(CONCURRENCY) $(CELERY_WORKER_FLAGS)
worker-bulk: QUEUE = bulk
worker-bulk: CONCURRENCY = $(BULK_CONCURRENCY)

worker worker-bulk: $(VENV)/.runtime
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0"; exit 1; }
	$(CELERY_WORKER)

# A worker under the smallest supervisor: started again 2 s after any exit, stopped with it by Ctrl-C or TERM
# (QUEUE=bulk for the bulk one). In production use systemd or supervisord (README, "Running with PostgreSQL, Redis,
# Celery workers and beat").
worker-supervised: $(VENV)/.runtime
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0"; exit 1; }
	@trap 'kill -TERM $$pid 2>/dev/null; wait $$pid; exit 0' INT TERM; \
	while true; do \
	  $(CELERY_WORKER) & \
	  pid=$$!; wait $$pid; status=$$?; \
	  echo "worker-supervised: the $(QUEUE) worker exited with status $$status; starting it again in 2 s" >&2; sleep 2; \
	done

beat: $(VENV)/.runtime var
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0"; exit 1; }
	$(VENV)/bin/celery -A config beat --loglevel=INFO --schedule=var/celerybeat-schedule

bench: $(VENV)/.dev var
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/undersigned_bench"; exit 1; }
	$(PY) -m bench.run $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache .import_linter_cache
