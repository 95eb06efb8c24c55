# Two commands for a fresh machine: `make demo` and `make test`. Both build .venv first.
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench system-deps fixtures clean reliability soak lock

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The suite uses real parts: LibreOffice converts .doc/.wps/.odt (kept warm through python3-uno: the system
# Python's `uno` runs bot/forms/convert/server.py), Dovecot is the IMAP server; the OCR tests print forms
# with LibreOffice, scan them with pdftoppm and write in AR PL UKai (a brush hand).
# Chromium renders the digest for the layout test. PostgreSQL holds the ledger of the multi-instance tests.
# Install them when missing (CI runs as root on a fresh machine).
APT_PACKAGES := $(if $(shell command -v soffice),,libreoffice-writer-nogui) \
                $(if $(shell /usr/bin/python3 -c 'import uno' 2>/dev/null && echo yes),,python3-uno) \
                $(if $(wildcard /usr/sbin/dovecot),,dovecot-imapd) \
                $(if $(shell command -v chromedriver),,chromium chromium-driver fonts-noto-cjk) \
                $(if $(wildcard /usr/lib/postgresql/*/bin/postgres),,postgresql) \
                $(if $(shell command -v pdftoppm),,poppler-utils) \
                $(if $(wildcard /usr/share/fonts/truetype/arphic/ukai.ttc),,fonts-arphic-ukai)
system-deps:
	@if [ -n "$(strip $(APT_PACKAGES))" ]; then \
	  echo "installing $(strip $(APT_PACKAGES))"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null; \
	fi


lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

test: $(STAMP) system-deps lint
	$(BIN)/pytest

# The whole bot on embedded defaults: a Maildir inbox seeded with a dozen branch mails, one poll as on
# 9 May 2021, replies written as .eml files to demo-out/outbox, then the ledger, the staff's digest as
# HTML and the 汇总表 workbook.
demo: $(STAMP)
	rm -rf demo-out
	$(BIN)/subbot form --out demo-out/空白筹备方案.docx
	$(BIN)/python -m bot.demo demo-out
	$(BIN)/subbot --settings demo-out/bot.toml --now 2021-05-09T09:00 poll --reply-backlog
	$(BIN)/subbot --settings demo-out/bot.toml ledger
	$(BIN)/subbot --settings demo-out/bot.toml --now 2021-05-09T09:00 digest --preview demo-out/digest.html
	$(BIN)/subbot --settings demo-out/bot.toml --now 2021-05-09T09:00 export --xlsx demo-out/汇总表.xlsx
	@echo "回复邮件（.eml）在 demo-out/outbox/，原始邮件与账本在 demo-out/data/"
	@echo "每日摘要预览在 demo-out/digest.html，汇总表在 demo-out/汇总表.xlsx"


# Forms read per second, start-up, scans read by OCR, then the whole bot against real Dovecot and aiosmtpd (about 45 minutes; `--quick`
# tries the bench itself in a few). Both rewrite their sections of docs/BENCHMARKS.md.
bench: $(STAMP) system-deps
	$(BIN)/python -m bench.bench_forms
	$(BIN)/python -m bench.bench_startup
	$(BIN)/python -m bench.bench_ocr
	$(BIN)/python -m bench.bench_intake

# docs/RELIABILITY.md, written by the suites: each test that tries a fault or hostile input leaves a JSON
# row in $(RESULTS) (format: tests/faults/fault_results.py), then the rows become the document. The whole
# suite runs, so every suite that writes rows is in it; RELIABILITY_TESTS=tests/faults narrows it.
RESULTS := build/reliability
RELIABILITY_TESTS ?= tests
reliability: $(STAMP) system-deps
	rm -rf $(RESULTS)
	SUBBOT_RESULTS_DIR=$(CURDIR)/$(RESULTS) $(BIN)/pytest -p no:cacheprovider $(RELIABILITY_TESTS)
	$(BIN)/python tests/faults/reliability.py $(RESULTS) docs/RELIABILITY.md

# The crash test with 1,000 kills (SUBBOT_FAULT_KILLS), its row replacing the last run's in the document.
soak: $(STAMP) system-deps
	SUBBOT_FAULT_KILLS=1000 SUBBOT_RESULTS_DIR=$(CURDIR)/$(RESULTS) $(BIN)/pytest -p no:cacheprovider \
	  tests/faults/test_faults_crash.py -k anywhere
	$(BIN)/python tests/faults/reliability.py $(RESULTS) docs/RELIABILITY.md

# Regenerates the golden plan forms (needs soffice); the suite only reads them.
fixtures: $(STAMP)
	$(BIN)/python tests/fixtures/make_forms.py

# requirements.lock, which the Docker image installs with --require-hashes: the dependencies and the extras
# the image ships (LOCK_EXTRAS), each pinned with the hashes of all its files on the index. Pins already in
# the lock are kept; `make lock PIP_COMPILE_FLAGS=--upgrade` moves them to the newest allowed.
# tests/test_lock.py checks the lock against pyproject.toml.
LOCK_EXTRAS := postgres ocr
lock: $(STAMP)
	$(BIN)/pip install --quiet pip-tools
	$(BIN)/pip-compile --generate-hashes --no-emit-find-links --no-emit-index-url --strip-extras \
	  $(addprefix --extra=,$(LOCK_EXTRAS)) $(PIP_COMPILE_FLAGS) --output-file=requirements.lock pyproject.toml

clean:
	rm -rf $(VENV) demo-out build .mypy_cache .pytest_cache .ruff_cache
