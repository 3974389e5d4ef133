# Two commands a new user needs: `make build` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: build test serve check bench clean

$(BIN)/site-builder: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

build: $(BIN)/site-builder
	$(BIN)/site-builder build

test: $(BIN)/site-builder
	$(BIN)/python -m pytest

serve: $(BIN)/site-builder
	$(BIN)/site-builder serve

check: $(BIN)/site-builder
	$(BIN)/site-builder check

clean:
	rm -rf public .site-builder-cache
