# make demo: fit the Chinchilla law on the shipped data and print the compute-optimal allocation.
# make test: run the test suite (slow reproductions excluded; `make test-slow` runs them).
# make fuzz: the fuzz suite (tests/fuzz) with many more generated cases than make test runs.
# make notebooks: execute the notebooks and store them with their outputs (tables and figures).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: demo test test-slow fuzz bench lint notebooks clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	mkdir -p $(OUT)
	$(BIN)/scalelaw fit loss data/loss/epoch_chinchilla_svg_extracted.csv --exclude-highest 5 \
		--starts hoffmann --bootstrap 1000 --seed 0 --out $(OUT)/chinchilla_fit.json --plot $(OUT)/chinchilla_fit.png
	$(BIN)/scalelaw optimal $(OUT)/chinchilla_fit.json --flops 5.76e23

test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q

fuzz: $(STAMP)
	SCALELAW_FUZZ=long $(BIN)/python -m pytest tests/fuzz -q -p no:randomly --hypothesis-show-statistics

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

notebooks: $(STAMP)
	$(BIN)/python notebooks/execute.py

lint: $(STAMP)
	$(BIN)/ruff check scalelaw tests benchmarks

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
