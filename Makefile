# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app residency
PYBABEL := $(VENV)/bin/pybabel
PORT ?= 5000
TRANSLATIONS := residency/translations

.PHONY: install run test test-sqlite test-postgres translations extract-messages seed migrate clean bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed translations

# Compiled catalogues are build output, made from the .po files on every install.
translations: $(VENV)/.installed
	@$(PYBABEL) compile --statistics -d $(TRANSLATIONS)

extract-messages: $(VENV)/.installed
	$(PYBABEL) extract -F babel.cfg -k _l -k lazy_gettext -k _counted:1,2 -o $(TRANSLATIONS)/messages.pot --no-location --sort-output .
	$(PYBABEL) update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-wrap --ignore-obsolete --no-fuzzy-matching

migrate: install
	$(FLASK) db upgrade

seed: migrate
	$(FLASK) seed-demo --if-empty

# Web server (gunicorn), scheduler and a development mail sink; Ctrl-C stops all.
# A taken PORT stops it with a plain message; a taken mail port (8025) makes the sink take a free one,
# and the web and scheduler deliver there. The banner says where e-mails are filed (instance/mail/).
run: seed
	PORT=$(PORT) $(PY) -m residency.devserver

# The layers contract first, then the suite on SQLite (two workers), then again on PostgreSQL
# when TEST_DATABASE_URL is set (one worker: the tests share its one database). The visual checks
# (every page, two widths, three languages) measure the browser's layout, which no database changes:
# they run in the SQLite pass only, keeping CI within its time.
test: install
	$(VENV)/bin/lint-imports --no-cache
	env -u TEST_DATABASE_URL $(PY) -m pytest -q -n 2 --dist loadfile --durations=15
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(PY) -m pytest -q -p no:xdist --durations=15 --ignore=tests/e2e/test_visual.py; \
	fi

# The busiest pages under load on a seed-scale database (README "Benchmarks"; needs wrk).
bench: install
	$(PY) -m tests.benchmarks.bench_pages --url "$(BENCH_URL)"

clean:
	rm -rf $(VENV) instance .pytest_cache
