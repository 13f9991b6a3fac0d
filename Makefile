# The kit's commands. Every target creates the virtual environment first if needed.
#   make demo     grade the reference and the stub of every finished assignment
#   make test     run the kit's own tests
#   make grade ASSIGNMENT=tensors SUBMISSION=path/to/file-or-folder OUT=results.json
#   make check ASSIGNMENT=tensors SUBMISSION=my/tensors.py   (public tests only, as a student)
#   make stubs    regenerate assignments/*/<name>.py from solutions/
#   make bench    time a grade against a bare `import torch`

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ASSIGNMENT ?= tensors
SUBMISSION ?= solutions/$(ASSIGNMENT).py
OUT ?= results.json

.PHONY: venv demo test grade check stubs bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python 3.10 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e . pytest-timeout
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	@$(BIN)/python -m autograder.demo

test: $(STAMP)
	$(BIN)/python -m pytest tests

grade: $(STAMP)
	@$(BIN)/autograder grade $(ASSIGNMENT) $(SUBMISSION) --out $(OUT) --details

check: $(STAMP)
	@$(BIN)/autograder grade $(ASSIGNMENT) $(SUBMISSION) --out $(OUT) --details --public-only

stubs: $(STAMP)
	$(BIN)/python -m autograder.stubgen

bench: $(STAMP)
	@$(BIN)/python -m autograder.bench

clean:
	rm -rf $(VENV) build dist results.json
