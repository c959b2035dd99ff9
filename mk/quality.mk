# Quality gates for the mailsec.sendmail collection (GNU make).
#
# Included by the top-level Makefile; also usable alone:
#     make -f mk/quality.mk quality
#
# Targets (each usable on its own):
#   venv             .venv with the pinned tools of tests/requirements.txt
#   collection-tree  copy of the repository at build/ansible_collections/mailsec/sendmail
#   sanity           ansible-test sanity --venv --python 3.11 in that copy
#   units            ansible-test units --venv --python 3.11 in that copy
#   lint             ansible-lint (production profile), antsibull-changelog lint, ruff,
#                    antsibull-docs lint-collection-docs --plugin-docs
#   build            build and install the collection tarball, check what it ships
#   galaxy-import    Galaxy's importer on the built tarball (tests/galaxy-importer/)
#   quality          all of the above: lint, build, galaxy-import, sanity, units
#   constraints      re-resolve tests/constraints.txt from tests/requirements.txt
#   quality-clean    remove build/ (collection copy and its test venv, tarballs, installs)
#
# Variables (override on the command line):
#   PYTHON=python3          interpreter that creates .venv
#   ANSIBLE_TEST_PYTHON=3.11
#   SANITY_ARGS=            extra ansible-test sanity options (e.g. --test pep8)
#   UNITS_ARGS=             extra ansible-test units options
#   UNITS_REQUIRED=1        fail when tests/unit has no test_*.py (ansible-test itself
#                           then says "All targets skipped" and exits 0); 0 to allow it
#
# Runs without a terminal, as root or not, with CI=true; installs the Debian
# packages it needs (rsync, git, shellcheck, python3-venv) with apt-get;
# ansible-test keeps its per-test venvs in ~/.ansible/test/venv (reused).
# Safe under make -j: sanity and units wait for each other (flock).

Q_MK   := $(lastword $(MAKEFILE_LIST))
Q_ROOT := $(abspath $(dir $(Q_MK))..)

PYTHON              ?= python3
ANSIBLE_TEST_PYTHON ?= 3.11
SANITY_ARGS         ?=
UNITS_ARGS          ?=
UNITS_REQUIRED      ?= 1

Q_NAMESPACE := mailsec
Q_NAME      := sendmail
Q_VENV      := $(Q_ROOT)/.venv
Q_BIN       := $(Q_VENV)/bin
Q_STAMP     := $(Q_VENV)/.requirements.stamp
Q_REQS      := $(Q_ROOT)/tests/requirements.txt $(Q_ROOT)/tests/constraints.txt
Q_TOOLS     := $(Q_ROOT)/tests/tools
Q_BUILD     := $(Q_ROOT)/build
Q_TREE      := $(Q_BUILD)/ansible_collections/$(Q_NAMESPACE)/$(Q_NAME)
Q_TIMING    := $(Q_BUILD)/.timing
Q_LINT_COLL := $(Q_BUILD)/lint-collections
# Tools whose pins clash with .venv's live in venvs of their own (tests/<tool>/requirements.txt).
Q_DOCS_VENV := $(Q_BUILD)/docs-venv
Q_GI_VENV   := $(Q_BUILD)/galaxy-importer-venv
# sanity and units share the copy and ansible-test's venvs in it: under make -j
# they take turns instead of building the same venv at once.
Q_LOCK      := flock $(Q_BUILD)/.ansible-test.lock

# Tools from .venv first; ansible-test also looks up python$(ANSIBLE_TEST_PYTHON) on PATH.
Q_ENV := PATH="$(Q_BIN):$$PATH" PIP_NO_INPUT=1


Q_RSYNC_EXCLUDES := \
	--exclude=/.venv/ --exclude=/build/ --exclude=.git --exclude=/.cache/ \
	--exclude=/.ansible/ --exclude=/tests/output/ --exclude=/reports/ \
	--exclude='*.tar.gz' --exclude=__pycache__/ --exclude='*.pyc' --exclude=.pytest_cache/

# $(call q_begin,NAME,WHAT) / $(call q_end,NAME): announce a step and report its wall time.
q_begin = @mkdir -p $(Q_TIMING) && date +%s > $(Q_TIMING)/$(1) && echo "==> $(1): $(2)"
q_end   = @echo "<== $(1): done in $$(( $$(date +%s) - $$(cat $(Q_TIMING)/$(1)) ))s"
# Append to a failing command: $(call q_fail,NAME) reports the time, keeps the exit status.
q_fail  = { rc=$$?; echo "<== $(1): FAILED after $$(( $$(date +%s) - $$(cat $(Q_TIMING)/$(1)) ))s" >&2; exit $$rc; }

.PHONY: venv docs-venv collection-tree ansible-test-cache sanity units lint build galaxy-import quality constraints quality-clean

# --- venv -------------------------------------------------------------------

venv: $(Q_STAMP)

$(Q_STAMP): $(Q_REQS)
	$(call q_begin,venv,$(Q_VENV) from tests/requirements.txt)
	@if ! $(PYTHON) -c 'import venv, ensurepip' >/dev/null 2>&1; then \
		echo "venv: $(PYTHON) lacks venv/ensurepip, installing python3-venv"; \
		$(Q_TOOLS)/ensure-deb.sh :python3-venv; \
	fi
	@if [ -x $(Q_BIN)/python ] && $(Q_BIN)/python -c 'import pip' >/dev/null 2>&1; then \
		echo "venv: reusing $(Q_VENV) ($$($(Q_BIN)/python --version))"; \
	else \
		echo "venv: creating $(Q_VENV) with $(PYTHON) ($$($(PYTHON) --version))"; \
		rm -rf $(Q_VENV) && $(PYTHON) -m venv $(Q_VENV); \
	fi
	@echo "venv: installing pinned requirements"
	$(Q_BIN)/python -m pip install --quiet --no-input --progress-bar off -r $(Q_ROOT)/tests/requirements.txt
	$(Q_BIN)/python -m pip check
	@touch $@
	$(call q_end,venv)

docs-venv:
	@$(Q_TOOLS)/tool-venv.sh $(PYTHON) $(Q_DOCS_VENV) $(Q_ROOT)/tests/docs/requirements.txt

# Re-resolve the full pin set after changing tests/requirements.txt.
constraints:
	$(call q_begin,constraints,re-resolving tests/constraints.txt in a scratch venv)
	rm -rf $(Q_BUILD)/constraints-venv
	$(PYTHON) -m venv $(Q_BUILD)/constraints-venv
	grep -v '^-c' $(Q_ROOT)/tests/requirements.txt > $(Q_BUILD)/constraints-req.txt
	$(Q_BUILD)/constraints-venv/bin/python -m pip install --quiet --no-input --progress-bar off -r $(Q_BUILD)/constraints-req.txt
	{ echo "# Full set of resolved versions for requirements.txt (pip freeze of .venv)."; \
	  echo "# Regenerate: make -f mk/quality.mk constraints"; \
	  $(Q_BUILD)/constraints-venv/bin/python -m pip freeze --exclude-editable; } > $(Q_ROOT)/tests/constraints.txt
	rm -rf $(Q_BUILD)/constraints-venv $(Q_BUILD)/constraints-req.txt
	$(call q_end,constraints)

# --- collection tree for ansible-test ---------------------------------------

collection-tree:
	$(call q_begin,collection-tree,copying the repository to $(Q_TREE))
	@$(Q_TOOLS)/ensure-deb.sh rsync git
	mkdir -p $(Q_TREE)
	rsync -a --delete $(Q_RSYNC_EXCLUDES) $(Q_ROOT)/ $(Q_TREE)/
	@# The copy sits inside this repository's work tree, where build/ is ignored:
	@# its own (empty) git repository makes ansible-test list the copied files
	@# instead of finding none; its exclude file keeps ansible-test's own output
	@# (venvs under tests/output/) out of the sanity tests.
	test -d $(Q_TREE)/.git || git -C $(Q_TREE) init -q
	printf '%s\n' /tests/output/ __pycache__/ '*.pyc' .pytest_cache/ > $(Q_TREE)/.git/info/exclude
	$(call q_end,collection-tree)

# ansible-test bootstraps pip in its venvs from a cached get-pip script it
# cannot download here: put the stand-in (ensurepip + pip from the index) there.
ansible-test-cache: venv
	@echo "==> ansible-test-cache: placing the get-pip stand-in"
	$(Q_BIN)/python $(Q_TOOLS)/place_get_pip_standin.py

# --- ansible-test -----------------------------------------------------------

sanity: venv collection-tree ansible-test-cache
	$(call q_begin,sanity,ansible-test sanity --venv --python $(ANSIBLE_TEST_PYTHON) $(SANITY_ARGS))
	@$(Q_TOOLS)/ensure-deb.sh shellcheck
	@echo "cd $(Q_TREE) && ansible-test sanity --venv --python $(ANSIBLE_TEST_PYTHON) $(SANITY_ARGS)"
	@cd $(Q_TREE) && $(Q_ENV) $(Q_LOCK) ansible-test sanity --venv --python $(ANSIBLE_TEST_PYTHON) $(SANITY_ARGS) </dev/null \
		|| $(call q_fail,sanity)
	$(call q_end,sanity)

units: venv collection-tree ansible-test-cache
	$(call q_begin,units,ansible-test units --venv --python $(ANSIBLE_TEST_PYTHON) $(UNITS_ARGS))
	@# The transit tests make their certificates and keys with openssl (no key is kept in the tree).
	@$(Q_TOOLS)/ensure-deb.sh openssl
	@if ! find $(Q_TREE)/tests/unit -name 'test_*.py' -print -quit 2>/dev/null | grep -q .; then \
		if [ "$(UNITS_REQUIRED)" != 0 ]; then \
			echo "units: no tests/unit/**/test_*.py found: nothing would be tested (UNITS_REQUIRED=0 allows this)" >&2; exit 1; \
		fi; \
		echo "units: WARNING: no tests/unit/**/test_*.py: nothing to run"; \
	else \
		echo "cd $(Q_TREE) && ansible-test units --venv --python $(ANSIBLE_TEST_PYTHON) $(UNITS_ARGS)"; \
		cd $(Q_TREE) && $(Q_ENV) $(Q_LOCK) ansible-test units --venv --python $(ANSIBLE_TEST_PYTHON) $(UNITS_ARGS) </dev/null \
			|| $(call q_fail,units); \
	fi
	$(call q_end,units)

# --- lint -------------------------------------------------------------------

lint: venv docs-venv
	$(call q_begin,lint,ansible-lint / antsibull-changelog / ruff / antsibull-docs)
	@# ansible-lint --offline installs nothing: it finds this collection through a
	@# link to the work tree, placed first so no older installed copy is used.
	@mkdir -p $(Q_LINT_COLL)/ansible_collections/$(Q_NAMESPACE)
	@ln -sfn $(Q_ROOT) $(Q_LINT_COLL)/ansible_collections/$(Q_NAMESPACE)/$(Q_NAME)
	@cd $(Q_ROOT) && rc=0; \
	echo "lint: ansible-lint --offline --profile production"; \
	$(Q_ENV) ANSIBLE_COLLECTIONS_PATH="$(Q_LINT_COLL):$$HOME/.ansible/collections:/usr/share/ansible/collections" \
		$(Q_TOOLS)/ansible_lint_gate.sh --offline --profile production </dev/null || rc=1; \
	echo "lint: antsibull-changelog lint"; \
	$(Q_ENV) antsibull-changelog lint || rc=1; \
	$(Q_ENV) antsibull-changelog lint-changelog-yaml changelogs/changelog.yaml || rc=1; \
	if [ -d plugins ]; then \
		echo "lint: ruff check --target-version py38 plugins"; \
		$(Q_BIN)/ruff check --no-cache --config tests/tools/ruff.toml --target-version py38 plugins || rc=1; \
	fi; \
	if [ -d tests ]; then \
		echo "lint: ruff check --target-version py311 tests"; \
		$(Q_BIN)/ruff check --no-cache --config tests/tools/ruff.toml --target-version py311 tests || rc=1; \
	fi; \
	echo "lint: antsibull-docs lint-collection-docs --plugin-docs"; \
	PATH="$(Q_DOCS_VENV)/bin:$$PATH" ANSIBLE_COLLECTIONS_PATH="$(Q_LINT_COLL)" \
		antsibull-docs lint-collection-docs --plugin-docs $(Q_LINT_COLL)/ansible_collections/$(Q_NAMESPACE)/$(Q_NAME) \
		</dev/null || rc=1; \
	[ $$rc -eq 0 ] || { echo "lint: FAILED (see above)" >&2; false; } || $(call q_fail,lint)
	$(call q_end,lint)

# --- build ------------------------------------------------------------------

build: venv
	$(call q_begin,build,ansible-galaxy collection build and install)
	mkdir -p $(Q_BUILD)
	rm -f $(Q_BUILD)/$(Q_NAMESPACE)-$(Q_NAME)-*.tar.gz
	cd $(Q_ROOT) && $(Q_ENV) ansible-galaxy collection build --force --output-path $(Q_BUILD)/ </dev/null
	$(Q_TOOLS)/check-collection-tarball.sh $(Q_BUILD)/$(Q_NAMESPACE)-$(Q_NAME)-*.tar.gz
	rm -rf $(Q_BUILD)/installed
	cd $(Q_ROOT) && $(Q_ENV) ansible-galaxy collection install --offline --force -p $(Q_BUILD)/installed \
		$(Q_BUILD)/$(Q_NAMESPACE)-$(Q_NAME)-*.tar.gz </dev/null
	test -f $(Q_BUILD)/installed/ansible_collections/$(Q_NAMESPACE)/$(Q_NAME)/MANIFEST.json
	$(call q_end,build)

# --- Galaxy's importer ---------------------------------------------------------

# Its one expected finding, the repository URL galaxy.yml leaves to the owners, is named, not hidden.
galaxy-import: build
	$(call q_begin,galaxy-import,galaxy-importer on the built tarball)
	@$(Q_TOOLS)/tool-venv.sh $(PYTHON) $(Q_GI_VENV) $(Q_ROOT)/tests/galaxy-importer/requirements.txt
	@PATH="$(Q_GI_VENV)/bin:$$PATH" GALAXY_IMPORTER_CONFIG=$(Q_ROOT)/tests/galaxy-importer/galaxy-importer.cfg \
		$(Q_GI_VENV)/bin/python $(Q_TOOLS)/galaxy_import_gate.py $(wildcard $(Q_BUILD)/$(Q_NAMESPACE)-$(Q_NAME)-*.tar.gz) \
		$(Q_BUILD)/galaxy-import </dev/null || $(call q_fail,galaxy-import)
	$(call q_end,galaxy-import)

# --- everything -------------------------------------------------------------

# Fast checks first; each step in its own sub-make, one after the other.
# Every step runs even when an earlier one fails; the summary names the failures.
Q_STEPS := lint build galaxy-import sanity units

quality: venv
	$(call q_begin,quality,$(Q_STEPS))
	@failed=; for step in $(Q_STEPS); do \
		$(MAKE) --no-print-directory -j1 -f $(firstword $(MAKEFILE_LIST)) $$step || failed="$$failed $$step"; \
	done; \
	echo "<== quality: done in $$(( $$(date +%s) - $$(cat $(Q_TIMING)/quality) ))s"; \
	if [ -n "$$failed" ]; then echo "quality: FAILED:$$failed" >&2; exit 1; fi; \
	echo "quality: all passed ($(Q_STEPS))"

quality-clean:
	rm -rf $(Q_BUILD)
