# The two commands: `make demo` (set up and run the whole system) and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test setup system-deps lint typecheck pytest bench docs screenshots clean

demo: setup system-deps ## install what is missing, then run fanzwatch up --demo
	$(VENV)/bin/fanzwatch up --demo

test: setup lint typecheck pytest ## lint, type checks and the whole test suite

setup: $(STAMP)

$(STAMP): pyproject.toml web/rum/package-lock.json web/fanzdash/package-lock.json
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@if [ -f web/rum/package.json ]; then cd web/rum && npm ci --no-audit --no-fund && npm run build; fi
	@if [ -f web/fanzdash/package.json ]; then cd web/fanzdash && npm ci --no-audit --no-fund && npm run build; fi
	touch $(STAMP)

system-deps: ## Debian packages: Prometheus, Alertmanager, node_exporter, Chromium, wrk
	@./scripts/system-deps.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck:
	$(VENV)/bin/mypy

# Two pytest-xdist workers, modules whole (the demo stack's modules one scope), the longest first
# (tests/conftest.py): a clean-clone CI run here passed 2,537 tests in 18 min 41 s this way (27 min
# with the fresh setup). PYTEST_WORKERS=0 runs serially (the
# stack tests are timing-bound: on a machine already loaded by other work, prefer serial).
PYTEST_WORKERS ?= 2
pytest:
	$(VENV)/bin/pytest -q -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder

docs: setup ## regenerate docs/metrics.md from the catalog
	$(PY) -m fanzwatch.core.catalog.docs > docs/metrics.md

screenshots: setup system-deps ## the README's pictures, from the (running or a fresh) demo
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) .fanzwatch .fanzwatch-screenshots .fanzwatch-screenshots.log .pytest_cache .mypy_cache .ruff_cache
