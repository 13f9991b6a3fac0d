# The kit's commands. Every target creates the virtual environment first if needed, then runs one
# `autograder COMMAND` (`.venv/bin/autograder --help` lists the commands, each with more options).
#   make demo     grade the reference and the stub of every finished assignment; fails unless each
#                 reference gets full marks and each stub 0
#   make test     run the kit's own tests
#   make grade ASSIGNMENT=tensors SUBMISSION=path/to/file-or-folder OUT=results.json
#   make check ASSIGNMENT=tensors SUBMISSION=my/tensors.py   (public tests only, as a student)
#   make stubs    regenerate assignments/*/<name>.py from solutions/, and the generated block of
#                 each handout.md (the grading environment, from requirements/student.txt)
#   make bench    time each grade against a bare `import torch`, and a regrade of 50 submissions
#   make autograder       build dist/<assignment>-autograder.zip for Gradescope, per assignment: it
#                         first grades each reference (must get full marks) and stub (must score 0),
#                         prints their totals, and builds nothing if one grades otherwise
#   make student-bundle   build dist/student/<assignment>/ (and .zip): stub, notebook, handout, public tests
#   make regrade ASSIGNMENT=tensors EXPORT=submissions.zip [OUT=folder JOBS=8]   grade a Gradescope export
#   make bench-regrade    submissions per minute: a parallel regrade vs one `make grade` at a time

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
ASSIGNMENT ?= tensors
SUBMISSION ?= solutions/$(ASSIGNMENT).py
OUT ?= results.json

.PHONY: venv demo test grade check stubs bench clean autograder student-bundle regrade regrade-needs-export bench-regrade

$(STAMP): pyproject.toml constraints.txt $(wildcard requirements/*.txt)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || \
		{ echo "Python 3.10 or newer is needed (found $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[instructor]'
	@touch $@

venv: $(STAMP)

demo: $(STAMP)
	@$(BIN)/autograder demo

test: $(STAMP)
	$(BIN)/python -m pytest tests

grade: $(STAMP)
	@$(BIN)/autograder grade $(ASSIGNMENT) $(SUBMISSION) --out $(OUT) --details

check: $(STAMP)
	@$(BIN)/autograder check $(ASSIGNMENT) $(SUBMISSION) --out $(OUT) --details

stubs: $(STAMP)
	$(BIN)/autograder stubs

bench: $(STAMP)
	@$(BIN)/autograder bench

autograder: $(STAMP)
	@$(BIN)/autograder build autograder

student-bundle: $(STAMP)
	@$(BIN)/autograder build student-bundle

# OUT only when given on the command line (the default OUT is grade's results.json): without it,
# `autograder regrade` writes next to the export (students' grades stay out of the kit). JOBS=0: the CPU cores
REGRADE_OUT = $(if $(filter command line,$(origin OUT)),--out $(OUT))
regrade: JOBS ?= 0
# Without EXPORT, say how to call it before anything else (the environment is not built first).
regrade: $(if $(EXPORT),$(STAMP),regrade-needs-export)
	@$(BIN)/autograder regrade $(ASSIGNMENT) $(EXPORT) $(REGRADE_OUT) --jobs $(JOBS)

regrade-needs-export:
	@echo "make regrade needs the export: make regrade ASSIGNMENT=$(ASSIGNMENT) EXPORT=path/to/submissions.zip (Gradescope: Review Grades, Export Submissions)" >&2; exit 2

bench-regrade: $(STAMP)
	@$(BIN)/autograder bench --regrade

clean:
	rm -rf $(VENV) build dist results.json
