# Every target installs what it needs into .venv, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PO     := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run test test-all lint catalogs extract migrate demo bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

locales/%/LC_MESSAGES/messages.mo: locales/%/LC_MESSAGES/messages.po $(STAMP)
	$(VENV)/bin/pybabel compile -d locales -D messages -l $*

catalogs: $(MO)

# Refresh messages.pot from the code and merge it into every catalog.
extract: $(STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k N_ -k _ -k ngettext:1,2 --no-location -w 100 \
		--sort-output --project "Th.INKA bot" --copyright-holder "MitMenschen e.V." \
		--ignore-dirs sandbox -o locales/messages.pot bot handlers
	$(VENV)/bin/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching \
		--ignore-obsolete -w 100

migrate: $(STAMP) catalogs
	$(PY) -m bot migrate

# Starts the real bot when TELEGRAM_BOT_TOKEN is set (environment or .env), else the local demo.
run: $(STAMP) catalogs
	$(PY) -m bot migrate
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ] || grep -qs '^TELEGRAM_BOT_TOKEN=.' .env; then \
		$(PY) -m bot run; else $(PY) -m bot demo; fi

demo: $(STAMP) catalogs
	$(PY) -m bot demo

test: $(STAMP) catalogs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m pytest -q -n 2

test-all: $(STAMP) catalogs
	$(PY) -m pytest -q -m ''

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP) catalogs
	@for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) locales/*/LC_MESSAGES/*.mo .pytest_cache
