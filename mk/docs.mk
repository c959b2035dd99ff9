# Generated documentation for the mailsec.sendmail collection (GNU make).
#
# Included by the top-level Makefile; also usable alone:
#     make -f mk/docs.mk docs
#
# Targets:
#   docs        regenerate docs/controls.md from plugins/module_utils/_controls.py
#   docs-check  fail when docs/controls.md is stale (the catalogue changed, the page did not)
#
# Variables (override on the command line):
#   D_PYTHON=python3    interpreter running the generator (standard library only)

D_MK     := $(lastword $(MAKEFILE_LIST))
D_ROOT   := $(abspath $(dir $(D_MK))..)
D_PYTHON ?= python3
D_GEN    := $(D_ROOT)/tests/tools/gen_controls_doc.py
D_OUT    := $(D_ROOT)/docs/controls.md

.PHONY: docs docs-check

docs:
	@echo "==> docs: $(D_OUT) from the controls catalogue"
	$(D_PYTHON) $(D_GEN) $(D_OUT)

docs-check:
	@echo "==> docs-check: is $(D_OUT) up to date?"
	$(D_PYTHON) $(D_GEN) --check $(D_OUT)
