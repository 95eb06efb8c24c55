# Two commands for a fresh machine: `make demo` and `make test`. Both build .venv first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench system-deps fixtures clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# LibreOffice converts .doc/.wps/.odt; the suite tests that path, so install it when missing.
system-deps:
	@command -v soffice >/dev/null 2>&1 || { \
	  echo "installing libreoffice-writer-nogui (for .doc/.wps/.odt)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libreoffice-writer-nogui >/dev/null; }

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) system-deps lint
	$(BIN)/pytest

demo: $(STAMP)
	$(BIN)/subbot form --out demo-out/空白筹备方案.docx
	$(BIN)/subbot check tests/fixtures/forms/*.docx || true

bench: $(STAMP)
	$(BIN)/python bench/bench_forms.py

clean:
	rm -rf $(VENV) demo-out .mypy_cache .pytest_cache .ruff_cache
