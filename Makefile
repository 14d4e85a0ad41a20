# Two commands for a newcomer: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB_URL ?= sqlite:///$(CURDIR)/var/expediente.db
# Where `make run` listens: `make run HOST=0.0.0.0 PORT=8080`.
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install migrate deploy bench clean messages lock

# Python packages come only from requirements.txt (exact versions and hashes, every platform; `make lock`),
# setuptools included, so the editable install below builds without fetching anything unpinned.
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

# The lock is the only way a new upstream release reaches the project. `make lock` takes the newest releases
# that pyproject.toml's ranges allow (`make lock UPGRADE=` keeps every pin that still fits, e.g. after adding
# a dependency); uv itself is pinned in requirements-tools.in and installed from its own hashed lock.
UPGRADE ?= --upgrade
UV_STAMP := $(VENV)/.uv-installed
$(UV_STAMP): requirements-tools.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-tools.txt
	touch $@

lock: $(UV_STAMP)
	$(BIN)/uv pip compile --quiet $(UPGRADE) pyproject.toml requirements-build.in --extra test --universal \
		--python-version 3.11 --generate-hashes --custom-compile-command 'make lock' -o requirements.txt
	$(BIN)/uv pip compile --quiet requirements-tools.in --universal \
		--python-version 3.11 --generate-hashes --custom-compile-command 'make lock' -o requirements-tools.txt

# Front-end libraries from the npm registry (package-lock.json), copied into web/static/vendor.
VENDOR_STAMP := web/static/vendor/.built
$(VENDOR_STAMP): package.json package-lock.json web/build.mjs $(wildcard web/modeler/*.js web/modeler/*.json)
	npm ci --no-audit --no-fund --loglevel=error
	npm run --silent build
	touch $@

# The English catalogue of the pages (Spanish is the msgids themselves); .mo files are build products.
CATALOG_MO := web/translations/en/LC_MESSAGES/messages.mo
$(CATALOG_MO): web/translations/en/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel --quiet compile -d web/translations

install: $(STAMP) $(VENDOR_STAMP) $(CATALOG_MO)

# After adding or changing texts: extract every msgid (pages, API, engine msg(...)) and add the new ones to the
# catalogue; then write their English in messages.po (tests/unit/test_catalogue.py lists the missing ones).
messages: $(STAMP) var
	$(BIN)/pybabel --quiet extract -F babel.cfg -k msg -o var/messages.pot .
	$(BIN)/pybabel --quiet update -i var/messages.pot -d web/translations --no-fuzzy-matching

var:
	mkdir -p var

migrate: install var
	EXPEDIENTE_DATABASE_URL=$(DB_URL) $(BIN)/expediente migrate

deploy: migrate
	EXPEDIENTE_DATABASE_URL=$(DB_URL) $(BIN)/expediente deploy processes/

# Documents are signed with the office's certificate (EXPEDIENTE_SIGNING_CERT/KEY/CHAIN); without one configured,
# `make run` signs with a demo certificate it creates once under var/firma, marked as a demo in its subject.
SIGNING_DIR := var/firma

run: deploy
	EXPEDIENTE_DATABASE_URL=$(DB_URL) $(BIN)/expediente demo-users
	$(BIN)/expediente backup-status
	@if [ -z "$$EXPEDIENTE_SIGNING_CERT" ]; then \
	  $(BIN)/expediente demo-certificate $(SIGNING_DIR) || exit 1; \
	  export EXPEDIENTE_SIGNING_CERT=$(SIGNING_DIR)/firma-demo.crt.pem EXPEDIENTE_SIGNING_KEY=$(SIGNING_DIR)/firma-demo.key.pem \
	    EXPEDIENTE_SIGNING_CHAIN=$(SIGNING_DIR)/firma-demo-ca.crt.pem; \
	fi; \
	export EXPEDIENTE_PUBLIC_BASE_URL=$${EXPEDIENTE_PUBLIC_BASE_URL:-http://$(HOST):$(PORT)}; \
	echo "serving on http://$(HOST):$(PORT); documents' QR codes point to $$EXPEDIENTE_PUBLIC_BASE_URL/verificar"; \
	EXPEDIENTE_DATABASE_URL=$(DB_URL) exec $(BIN)/expediente serve --host $(HOST) --port $(PORT) --with-scheduler \
		--stop-with-parent

test: install var
	node web/modeler/test/roundtrip.mjs
	node web/modeler/test/i18n.mjs
	$(BIN)/python -m pytest -q -p no:cacheprovider -o console_output_style=count -n 2 --dist worksteal

bench: install
	$(BIN)/python bench/engine_throughput.py --quick
	$(BIN)/python bench/step_cost.py
	$(BIN)/python bench/http_cycle.py
	$(BIN)/python bench/case_bytes.py
	$(BIN)/python bench/draft_save.py
	$(BIN)/python bench/server_start.py
	$(BIN)/python bench/sandbox_overhead.py
	$(BIN)/python bench/sandbox_isolation.py
	$(BIN)/python bench/parse_scale.py
	$(BIN)/python bench/login_timing.py
	$(BIN)/python bench/documents.py
	$(BIN)/python bench/audit_verify.py --quick
	$(BIN)/python bench/audit_export.py --n 3
	$(BIN)/python bench/audit_record.py
	$(BIN)/python bench/message_latency.py
	$(BIN)/python bench/timers.py --quick
	$(BIN)/python bench/inbox_scale.py --quick

clean:
	rm -rf $(VENV) var
