# mailsec.sendmail: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
.DEFAULT_GOAL := help

include mk/quality.mk
include mk/docs.mk
include mk/ee.mk
include mk/matrix.mk

ROOT          := $(abspath .)
LAB           := PYTHONPATH=$(ROOT)/tests/lab $(PYTHON) -m mailsec_lab
LAB_INVENTORY ?= /var/lib/mailsec-lab/inventory.yml
REPORTS       := $(ROOT)/reports
# The collection as users get it: built and installed from its tarball.
COLLECTIONS   := $(Q_BUILD)/installed
ANSIBLE_ENV   := $(Q_ENV) ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS) ANSIBLE_HOST_KEY_CHECKING=False
# Lanes side by side (tests/tools/lanes.py): the scenarios with systemd hosts one after the other in the
# first (two booting or restarting at once have failed sendmail's restart), the rest shared among the
# others by their measured times. They wait on SSH, boots and sendmail more than on the two cores.
# MOLECULE_LANES=1: one lane, one at a time.
SCENARIO_ORDER := privdrop trixie legacy default audit lab el9 faults journal profiles runas tags invalid daemon upgrades included slices compare transit
ALL_SCENARIOS := $(notdir $(patsubst %/molecule.yml,%,$(wildcard molecule/*/molecule.yml)))
SCENARIOS     ?= $(filter $(ALL_SCENARIOS),$(SCENARIO_ORDER)) $(filter-out $(SCENARIO_ORDER),$(ALL_SCENARIOS))
M_SYSTEMD     := $(foreach s,$(SCENARIOS),$(if $(shell grep -l 'backend: systemd' molecule/$(s)/molecule.yml 2>/dev/null),$(s)))
MOLECULE_LANES ?= 3
M_LANES       = $(shell $(PYTHON) $(ROOT)/tests/tools/lanes.py $(MOLECULE_LANES) $(M_SYSTEMD) -- $(SCENARIOS))
# A stock and a legacy Debian host, one whose sendmail is built from upstream source (setreuid), and one laid out
# as RHEL 9's package lays it out (el9).
DEMO_HOSTS    := demo-stock:bookworm:stock:systemd demo-legacy:bookworm:legacy:systemd demo-setreuid:bookworm:setreuid:systemd \
                 demo-el9:bookworm:el9:systemd
DEMO_LIMIT    := demo-stock,demo-legacy,demo-setreuid,demo-el9
# The suite's lab hosts live apart from the demo's, so `make test` never touches those.
TEST_LAB_STATE ?= /var/lib/mailsec-lab-test
TEST_LAB      := MAILSEC_LAB_STATE=$(TEST_LAB_STATE)

.PHONY: help demo test report-test lab-image lab-test molecule bench bench-audit bench-report bench-formats bench-flood bench-runas bench-selections lab-ls lab-down

help:
	@echo "make demo      start a stock, a legacy, a setreuid-built and an EL9-layout lab host, audit them, harden them, audit them again"
	@echo "make test      the whole suite: lint, build, sanity, units, docs check, lab tests, every Molecule scenario"
	@echo "make docs      regenerate docs/controls.md from the controls catalogue"
	@echo "make lab-ls    list lab hosts;  make lab-down  destroy them all"
	@echo "make bench     lab start-up figures for 10 light hosts"
	@echo "make bench-audit  the audit against its one-call floor and the stock-task way, and its curve to 200 hosts"
	@echo "make bench-report the fleet page's size and open time in headless Chromium, 1 to 200 hosts"
	@echo "make bench-formats what XCCDF, ARF and OSCAL add to a 200-host audit's report step: sizes and seconds"
	@echo "make bench-flood  an SMTP flood (20 messages/s) into a host while it is hardened: accepted, refused, delivered"
	@echo "make bench-runas  what SM-RUNAS-02's scan of every home costs on a host with 5,000 users, against its floor"
	@echo "make bench-selections  the hardening under each selection (tags, families, exclusions, RunAsUser, waivers) on 6 profiles"

## The main job on the built-in lab.
demo: venv build lab-image
	$(LAB) up $(DEMO_HOSTS)
	rm -rf $(REPORTS)/demo && mkdir -p $(REPORTS)/demo/info
	$(ANSIBLE_ENV) ansible-playbook -i $(LAB_INVENTORY) --limit $(DEMO_LIMIT) \
		-e sendmail_info_save_dir=$(REPORTS)/demo/info mailsec.sendmail.info </dev/null
	$(ANSIBLE_ENV) ansible-playbook -i $(LAB_INVENTORY) --limit $(DEMO_LIMIT) \
		-e sendmail_audit_report_dir=$(REPORTS)/demo/audit mailsec.sendmail.audit </dev/null
	$(ANSIBLE_ENV) ansible-playbook -i $(LAB_INVENTORY) --limit $(DEMO_LIMIT) \
		mailsec.sendmail.harden </dev/null
	$(ANSIBLE_ENV) ansible-playbook -i $(LAB_INVENTORY) --limit $(DEMO_LIMIT) \
		-e sendmail_audit_report_dir=$(REPORTS)/demo/audit-after mailsec.sendmail.audit </dev/null
	$(Q_BIN)/python tests/lab/demo_summary.py $(REPORTS)/demo
	@echo
	@echo "Lab hosts stay up: ssh -i /var/lib/mailsec-lab/ssh/id_ed25519 root@<address> (make lab-ls)."
	@echo "Stop and remove them: make lab-down"

## The whole suite; .ci/run calls exactly this.
test: quality docs-check docsite report-test lab-test ee-test matrix molecule
	@echo "make test: all passed"

## The fleet page of a 200-host report in a real browser (Debian's chromium, headless); the XCCDF, ARF and OSCAL
## files checked by OpenSCAP (Debian's) and compliance-trestle (PyPI, a venv of its own: test-only).
TRESTLE_VENV := $(Q_BUILD)/trestle-venv
report-test: venv build
	$(call q_begin,report-test,pytest tests/report)
	@$(Q_TOOLS)/ensure-deb.sh chromium oscap:openscap-scanner :openscap-utils
	@$(Q_TOOLS)/tool-venv.sh $(PYTHON) $(TRESTLE_VENV) $(ROOT)/tests/report/oscal-requirements.txt
	cd tests/report && TRESTLE_PYTHON=$(TRESTLE_VENV)/bin/python PYTHONPATH=$(COLLECTIONS) $(Q_BIN)/pytest -p no:cacheprovider -q . </dev/null || $(call q_fail,report-test)
	$(call q_end,report-test)

lab-image:
	$(LAB) image bookworm trixie bullseye

## The lab's own tests: lifecycle, clean teardown, mirror parsing, bullseye, denied system calls, the
## selection sweep's sample, which hardens with the built collection (needs root).
lab-test: venv build lab-image
	$(call q_begin,lab-test,pytest tests/lab/tests)
	cd tests/lab && $(TEST_LAB) PYTHONPATH=$(ROOT)/tests/lab $(Q_BIN)/pytest -p no:cacheprovider -q tests </dev/null || $(call q_fail,lab-test)
	$(call q_end,lab-test)

molecule: venv build lab-image
	$(call q_begin,molecule,scenarios: $(SCENARIOS))
	@$(Q_TOOLS)/ensure-deb.sh oscap:openscap-scanner
	@# Clear what a killed earlier run left; tear down on any exit, interrupted or not.
	@$(TEST_LAB) $(LAB) down
	@trap '$(TEST_LAB) $(LAB) down' EXIT; trap 'exit 130' INT TERM; \
	$(TEST_LAB) $(ANSIBLE_ENV) $(Q_TOOLS)/run-scenarios.sh $(Q_BUILD)/molecule-logs $(M_LANES)
	$(call q_end,molecule)

bench: lab-image
	PYTHONPATH=$(ROOT)/tests/lab $(PYTHON) tests/lab/bench.py

BENCH_AUDIT_ARGS ?=
bench-audit: venv build lab-image
	MAILSEC_LAB_STATE=/var/lib/mailsec-lab-bench PYTHONPATH=$(ROOT)/tests/lab $(Q_BIN)/python tests/lab/bench_audit.py $(BENCH_AUDIT_ARGS)

bench-runas: venv build lab-image
	MAILSEC_LAB_STATE=/var/lib/mailsec-lab-bench PYTHONPATH=$(ROOT)/tests/lab $(Q_BIN)/python tests/lab/bench_runas.py $(BENCH_RUNAS_ARGS)

bench-report: venv build
	@$(Q_TOOLS)/ensure-deb.sh chromium
	cd tests/report && PYTHONPATH=$(COLLECTIONS) $(Q_BIN)/python bench_page.py

bench-formats: venv build
	cd tests/report && PYTHONPATH=$(COLLECTIONS) $(Q_BIN)/python bench_formats.py

bench-flood: venv build lab-image
	MAILSEC_LAB_STATE=/var/lib/mailsec-lab-bench PYTHONPATH=$(ROOT)/tests/lab $(Q_BIN)/python tests/lab/bench_flood.py

BENCH_SELECTIONS_ARGS ?=
bench-selections: venv build lab-image
	MAILSEC_LAB_STATE=/var/lib/mailsec-lab-bench PYTHONPATH=$(ROOT)/tests/lab $(Q_BIN)/python tests/lab/bench_selections.py $(BENCH_SELECTIONS_ARGS)

lab-ls:
	@$(LAB) ls

lab-down:
	$(LAB) down
