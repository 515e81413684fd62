# Stratus: `make run` serves the example functions/ and triggers/; `make test` runs every test.
SWIFT ?= swift
VENV ?= .venv
PYTHON ?= python3
APT_PACKAGES := libsqlite3-dev libcurl4-openssl-dev
# What only the tests need: a real browser for the dashboard's tests, PostgreSQL for the shared store's (the
# tests start their own throwaway cluster).
TEST_APT_PACKAGES := chromium postgresql
PIP_PACKAGES := pytest boto3 awscli awslambdaric schemathesis hypothesis requests pyyaml jsonschema-rs

.PHONY: run test lint test-swift test-compat build release deps test-deps venv bench format clean

run: deps release
	.build/release/stratus serve . --watch

test: lint test-swift test-compat

# The tree as `make format` leaves it (configuration in .swift-format).
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Package.swift

test-swift: deps test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

test-compat: deps test-deps venv
	$(SWIFT) build --product stratus
	STRATUS_BIN=$(CURDIR)/.build/debug/stratus $(VENV)/bin/python -m pytest -q -p no:cacheprovider Tests/compat

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product stratus

bench: deps venv release
	$(VENV)/bin/python bench/invoke_bench.py --stratus $(CURDIR)/.build/release/stratus
	$(VENV)/bin/python bench/messaging_bench.py --stratus $(CURDIR)/.build/release/stratus
	$(VENV)/bin/python bench/fifo_bench.py --stratus $(CURDIR)/.build/release/stratus
	$(VENV)/bin/python bench/burst_bench.py --stratus $(CURDIR)/.build/release/stratus
	$(VENV)/bin/python bench/breaker_bench.py --stratus $(CURDIR)/.build/release/stratus
	$(VENV)/bin/python bench/soak_bench.py --stratus $(CURDIR)/.build/release/stratus
	$(VENV)/bin/python bench/idle_bench.py --stratus $(CURDIR)/.build/release/stratus
	$(VENV)/bin/python bench/reload_bench.py --stratus $(CURDIR)/.build/release/stratus
	bash bench/http_bench.sh $(CURDIR)/.build/release/stratus
	bash bench/profile.sh $(CURDIR)/.build/release/stratus
	bash bench/aws_peers.sh && $(VENV)/bin/python bench/aws_bench.py --stratus $(CURDIR)/.build/release/stratus

# System libraries the build links against; installed only when missing.
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

test-deps:
	@$(MAKE) --no-print-directory deps APT_PACKAGES="$(TEST_APT_PACKAGES)"

# A venv for the compatibility tests and benches (pytest, boto3, the aws CLI, awslambdaric).
venv: $(VENV)/.installed

$(VENV)/.installed: Makefile
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check $(PIP_PACKAGES)
	touch $@

format:
	$(SWIFT) format --in-place --recursive Sources Tests Package.swift

clean:
	rm -rf .build $(VENV)
