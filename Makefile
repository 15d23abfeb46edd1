# infobot — every target installs what it needs first. See README.md.
PYTHON ?= python3
UV := $(PYTHON) -m uv
RASA_PYTHON_VERSION ?= 3.10.13
# Rasa 3.6 needs Python 3.10: pyenv's 3.10.13 when present, else any python3.10 on PATH.
RASA_PYTHON ?= $(shell PYENV_VERSION=$(RASA_PYTHON_VERSION) pyenv which python3.10 2>/dev/null || command -v python3.10)
VENV_BIN := .venv/bin
PO_FILES := $(wildcard bot/locale/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: install install-app run test train chat lint locale extract-messages clean bench chromium

install: install-app chromium

# What the service needs (make run, chat, train); the browser is only for the console tests.
install-app: .venv/.installed .venv-rasa/.installed locale

# The console's browser tests drive Debian's chromium (/usr/bin/chromium) through Playwright.
chromium:
	@command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)

.venv/.installed: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	$(UV) sync --frozen --quiet --python $(PYTHON)
	@touch $@

# Rasa 3.6 runs only on Python 3.10: its own environment, from a pinned lock file.
.venv-rasa/.installed: intents/requirements-rasa.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@test -n "$(RASA_PYTHON)" || (echo "Python 3.10 is needed for Rasa 3.6: pyenv install 3.10.13"; exit 1)
	$(UV) venv --quiet --allow-existing --python $(RASA_PYTHON) .venv-rasa
	VIRTUAL_ENV=$(CURDIR)/.venv-rasa $(UV) pip sync --quiet --python .venv-rasa/bin/python intents/requirements-rasa.lock
	@touch $@

locale: $(MO_FILES)

bot/locale/%/LC_MESSAGES/messages.mo: bot/locale/%/LC_MESSAGES/messages.po .venv/.installed
	@$(VENV_BIN)/pybabel compile --statistics -d bot/locale -D messages -l $* 2>&1 | grep -v '^$$' || true

extract-messages: .venv/.installed
	$(VENV_BIN)/pybabel extract -F babel.cfg -k translate:2 -k N_ --no-location \
		--omit-header -o bot/locale/messages.pot .
	$(VENV_BIN)/pybabel update -i bot/locale/messages.pot -d bot/locale -D messages --no-fuzzy-matching

train: install-app
	$(VENV_BIN)/infobot train

run: install-app
	$(VENV_BIN)/infobot train
	$(VENV_BIN)/infobot serve --host 127.0.0.1 --port 8000

chat: install-app
	$(VENV_BIN)/infobot chat

test: install
	@mkdir -p var
	@echo "rasa data validate (real Rasa) ..."
	@cd intents && ../.venv-rasa/bin/rasa data validate --data data/nlu --domain domain.yml --config config.yml \
		> ../var/rasa-validate.log 2>&1 || (cat ../var/rasa-validate.log; exit 1)
	@! grep -iE "labeled with multiple|duplicate|not a valid" var/rasa-validate.log
	$(VENV_BIN)/infobot content check --quiet
	$(VENV_BIN)/pytest -q

lint: .venv/.installed
	$(VENV_BIN)/ruff check bot tests bench intents/components
	$(VENV_BIN)/ruff format --check bot tests bench intents/components
	$(VENV_BIN)/mypy

clean:
	rm -rf models var .pytest_cache .mypy_cache $(MO_FILES)

# Benchmarks print figures as ratios against a baseline measured in the same run (see bench/README.md).
bench: install-app
	@command -v wrk >/dev/null || (apt-get update && apt-get install -y wrk)
	$(VENV_BIN)/python bench/webhooks_wrk.py --seconds 30 --think 3
	$(VENV_BIN)/python bench/webhooks_wrk.py --seconds 20
	$(VENV_BIN)/python bench/webhooks.py
	$(VENV_BIN)/python bench/scam.py
