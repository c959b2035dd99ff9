# Generated documentation for the mailsec.sendmail collection (GNU make).
#
# Included by the top-level Makefile; also usable alone:
#     make -f mk/docs.mk docs
#
# Targets:
#   docs        regenerate docs/controls.md from plugins/module_utils/_controls.py
#   docs-check  fail when docs/controls.md is stale (the catalogue changed, the page did not)
#               (docsite needs the docs venv of mk/quality.mk: include both, as the Makefile does)
#   docsite     the collection's HTML documentation with antsibull-docs and Sphinx, in build/docsite/
#               (offline: the links to docs.ansible.com and docs.python.org cannot resolve, so
#               their warnings are shown but do not fail the build, and Sphinx runs without -W)
#
# Variables (override on the command line):
#   D_PYTHON=python3    interpreter running the generator (standard library only)

D_MK     := $(lastword $(MAKEFILE_LIST))
D_ROOT   := $(abspath $(dir $(D_MK))..)
D_PYTHON ?= python3
D_GEN    := $(D_ROOT)/tests/tools/gen_controls_doc.py
D_OUT    := $(D_ROOT)/docs/controls.md

D_SITE   := $(D_ROOT)/build/docsite
D_COLL   := $(D_ROOT)/build/docsite-collections

.PHONY: docs docs-check docsite

docs:
	@echo "==> docs: $(D_OUT) from the controls catalogue"
	$(D_PYTHON) $(D_GEN) $(D_OUT)

docs-check:
	@echo "==> docs-check: is $(D_OUT) up to date?"
	$(D_PYTHON) $(D_GEN) --check $(D_OUT)

docsite: docs-venv
	@echo "==> docsite: antsibull-docs and Sphinx into $(D_SITE)/build/html"
	rm -rf $(D_SITE) && mkdir -p $(D_SITE) $(D_COLL)/ansible_collections/mailsec && chmod 755 $(D_SITE)
	ln -sfn $(D_ROOT) $(D_COLL)/ansible_collections/mailsec/sendmail
	cd $(D_SITE) && PATH="$(Q_DOCS_VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH=$(D_COLL) \
		antsibull-docs sphinx-init --use-current --dest-dir $(D_SITE) mailsec.sendmail </dev/null
	mkdir -p $(D_SITE)/rst && chmod og-w $(D_SITE)/rst
	cd $(D_SITE) && PATH="$(Q_DOCS_VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH=$(D_COLL) \
		antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --use-current \
		--dest-dir rst mailsec.sendmail </dev/null
	cd $(D_SITE) && $(Q_DOCS_VENV)/bin/sphinx-build -M html rst build -c . --keep-going -q \
		-D intersphinx_timeout=5 </dev/null
	test -f $(D_SITE)/build/html/collections/mailsec/sendmail/index.html
	@echo "<== docsite: $(D_SITE)/build/html/collections/mailsec/sendmail/index.html"
