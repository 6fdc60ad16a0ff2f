# Every target installs what it needs into .venv, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PO     := $(wildcard locales/*/LC_MESSAGES/messages.po)
MO     := $(PO:.po=.mo)

.PHONY: run test test-all lint catalogs extract migrate demo bench clean

# Installs only when pyproject.toml changed since the last install (or on a fresh clone); pip
# is not asked to look for a newer version of itself online.
PIP    := $(PY) -m pip --disable-pip-version-check
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e '.[dev]'
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

# The bot's own modules are compiled once up front: the suite starts `python -m bot` as a
# process of its own dozens of times, and where PYTHONDONTWRITEBYTECODE is set (CI, containers)
# each start would compile them again. Three workers on two cores: many tests wait on timers
# and loopback HTTP, so a third one fills the gaps; worksteal keeps the long tests from
# gathering on one worker at the end (measurements in the commit that chose them).
test: $(STAMP) catalogs
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) -m compileall -q bot handlers
	$(PY) -m pytest -q -n 3 --dist worksteal

test-all: $(STAMP) catalogs
	$(PY) -m pytest -q -m ''

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(STAMP) catalogs
	@for b in bench/[!_]*.py; do echo "== $$b"; $(PY) $$b || exit 1; done
	@echo "== bench/throughput.py --paced (issue 18's realistic load)"
	$(PY) bench/throughput.py --paced --residents 100 --only bare ours

clean:
	rm -rf $(VENV) locales/*/LC_MESSAGES/*.mo .pytest_cache
