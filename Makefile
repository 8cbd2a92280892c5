# Two entry points for a fresh machine (see README):  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: demo test install install-test system-deps lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Serving install: no torch (the models run on onnxruntime).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Tests include a few training steps and ONNX export checks (train extra: torch), the PostgreSQL job store
# (postgres extra) and a local two-node Ray cluster (ray extra).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,train,postgres,ray]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## The main job on the bundled sample photo: image → PDF + JSON report.
demo: install
	@mkdir -p $(OUT)
	$(BIN)/ecgscreen report samples/photo-ptbxl-00256.jpg -o $(OUT)/report.pdf --json $(OUT)/report.json
	@echo "wrote $(OUT)/report.pdf and $(OUT)/report.json"

# Debian packages some tests drive: headless Chromium (browser test of the upload page) and a PostgreSQL server
# (job-store tests start a throw-away cluster). Installed only when missing and when apt-get can run (as root).
SYSTEM_PACKAGES := chromium postgresql
system-deps:
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "note: missing$$missing (the tests that need them will be skipped)"; fi; \
	fi

## The test suite (what CI runs).
test: system-deps install-test
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check ecg synth digitize analyze classify report api tests bench

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
