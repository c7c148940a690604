# Two commands do everything on a machine with python3 and make:
#   make demo   - runs the main job on the embedded default (no servers needed)
#   make test   - runs the whole test suite
# Both bootstrap .venv from pyproject.toml on first use (and again only when it changes).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-unit test-integration test-reliability test-demo lint bench venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,redis,metrics]'
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	@$(BIN)/python scripts/demo.py

test: $(STAMP) test-demo
	@$(BIN)/python -m pytest -p no:cacheprovider tests $(PYTEST_ARGS)

test-unit: $(STAMP)
	@$(BIN)/python -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS)

test-integration: $(STAMP)
	@$(BIN)/python -m pytest -p no:cacheprovider tests/integration tests/e2e $(PYTEST_ARGS)

# Fault injection with real servers (kills its own redis-server, SIGKILLs workers, 30 s
# of load); writes its figures to benchmarks/results/reliability.{json,md}.
test-reliability: $(STAMP)
	@$(BIN)/python -m pytest -p no:cacheprovider tests/reliability -rx $(PYTEST_ARGS)

# demo_monolith keeps its own Django test suite, as a legacy project would.
test-demo: $(STAMP)
	@cd demo_monolith && ../$(BIN)/python -W error manage.py test --noinput -v 1

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check strangler analyzers shims tests benchmarks scripts
	@$(BIN)/mypy
	@$(BIN)/lint-imports

bench: $(STAMP)
	@$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) .strangler .mypy_cache .ruff_cache .pytest_cache
