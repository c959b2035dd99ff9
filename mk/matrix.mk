# The ansible-core matrix (GNU make): the releases of tests/matrix/cores.txt besides the main pin.
#
# Included by the top-level Makefile after mk/quality.mk; also usable alone:
#     make -f mk/matrix.mk matrix
#
# Targets:
#   matrix        every release: own venv, build, install, ansible-doc of every module, filter and
#                 role, ansible-test sanity and units, audit and hardening of a lab host of its own;
#                 2.20 and later in a Debian trixie root (Python 3.13); one table at the end
#   matrix-clean  remove build/matrix (the trixie root stays in the lab's cache)
#
# Variables:
#   MATRIX_LAB_STATE=/var/lib/mailsec-lab-matrix   the matrix's lab hosts, apart from every other lab
#   MATRIX_CORES=2.16.19,2.20.10                   only these releases of cores.txt
#   MATRIX_ARGS=--no-lab                           more options of tests/matrix/run_matrix.py
#
# Runs without a terminal, as root, with CI=true; installs the Debian packages it needs.
# Kept between runs: the venvs and collection copies under build/matrix, ansible-test's venvs
# (~/.ansible/test, and /root/.ansible in the root), the root itself (rebuilt when its recipe,
# tests/lab/mailsec_lab/coreroot.py, changes).

M_MK := $(lastword $(MAKEFILE_LIST))
# Alone, it takes the rsync excludes, q_begin and friends from the quality gates.
ifndef Q_MK
include $(dir $(M_MK))quality.mk
endif

MATRIX_LAB_STATE ?= /var/lib/mailsec-lab-matrix
MATRIX_CORES     ?=
MATRIX_ARGS      ?=
M_BUILD := $(Q_BUILD)/matrix

.PHONY: matrix matrix-clean

matrix:
	$(call q_begin,matrix,ansible-core $(if $(MATRIX_CORES),$(MATRIX_CORES),of tests/matrix/cores.txt))
	@$(Q_TOOLS)/ensure-deb.sh rsync git ssh:openssh-client :python3-venv
	@cd $(Q_ROOT) && CI=true MATRIX_LAB_STATE=$(MATRIX_LAB_STATE) MATRIX_RSYNC_EXCLUDES="$(Q_RSYNC_EXCLUDES)" \
		PYTHONPATH=$(Q_ROOT)/tests/lab:$(Q_ROOT)/tests/matrix $(PYTHON) tests/matrix/run_matrix.py --build $(M_BUILD) \
		$(if $(MATRIX_CORES),--cores $(MATRIX_CORES)) $(MATRIX_ARGS) </dev/null || $(call q_fail,matrix)
	$(call q_end,matrix)

matrix-clean:
	rm -rf $(M_BUILD)
