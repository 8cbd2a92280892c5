# Two entry points for a fresh machine (see README):  make demo  |  make test
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out

.PHONY: demo test install install-test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Serving install: no torch (the models run on onnxruntime).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

# Tests include a few training steps and ONNX export checks, so they need the train extra (torch).
$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,train]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

## The main job on the bundled sample photo: image → PDF + JSON report.
demo: install
	@mkdir -p $(OUT)
	$(BIN)/ecgscreen report samples/photo-ptbxl-00256.jpg -o $(OUT)/report.pdf --json $(OUT)/report.json
	@echo "wrote $(OUT)/report.pdf and $(OUT)/report.json"

## The test suite (what CI runs).
test: install-test
	$(BIN)/python -m pytest -q

lint: install-test
	$(BIN)/ruff check ecg digitize analyze classify report api tests bench

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
