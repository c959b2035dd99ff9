# The execution environment and jobs run in it as AWX runs them (GNU make; included by the Makefile,
# after mk/quality.mk, whose venv, build and tool-venv it uses).
#
# Targets:
#   ee       build localhost/mailsec-sendmail-ee:<galaxy.yml version> with ansible-builder and podman
#   ee-test  run the audit and the hardening through ansible-runner in that image against lab hosts
#
# Variables:
#   EE_CA_DIR=/usr/local/share/ca-certificates   local CA certificates copied into the image, so that
#             pip in it trusts what this machine trusts; empty for none
#   EE_LAB_STATE=/var/lib/mailsec-lab-ee         the lab state of ee-test's hosts

E_VERSION   := $(shell sed -n 's/^version: *//p' $(Q_ROOT)/galaxy.yml)
EE_IMAGE    := localhost/mailsec-sendmail-ee:$(E_VERSION)
E_BASE      := localhost/mailsec-sendmail-ee-base:bookworm
E_VENV      := $(Q_BUILD)/ee-venv
E_FILES     := $(Q_BUILD)/ee/files
EE_CA_DIR   ?= /usr/local/share/ca-certificates
EE_LAB_STATE ?= /var/lib/mailsec-lab-ee
# podman's settings for this machine, and its network files outside /etc.
E_ENV       := CONTAINERS_CONF=$(Q_ROOT)/tests/ee/containers.conf

.PHONY: ee ee-test

ee: build
	$(call q_begin,ee,$(EE_IMAGE) with ansible-builder)
	@$(Q_TOOLS)/ensure-deb.sh podman runc mmdebstrap zstd
	@mkdir -p /var/lib/mailsec-ee/networks
	@$(Q_TOOLS)/tool-venv.sh $(PYTHON) $(E_VENV) $(Q_ROOT)/tests/ee/requirements.txt
	@echo "ee: the base image $(E_BASE), from a Debian root filesystem"
	@$(E_ENV) PYTHONPATH=$(Q_ROOT)/tests/lab $(PYTHON) -m mailsec_lab.eebase $(E_BASE) </dev/null
	@echo "ee: staging the collection tarball and the CA certificates of $(or $(EE_CA_DIR),nowhere)"
	@rm -rf $(E_FILES) && mkdir -p $(E_FILES)/collections $(E_FILES)/certs
	@echo "CA certificates from $(or $(EE_CA_DIR),nowhere), for pip in the image" > $(E_FILES)/certs/README
	@cp $(wildcard $(Q_BUILD)/$(Q_NAMESPACE)-$(Q_NAME)-*.tar.gz) $(E_FILES)/collections/mailsec-sendmail.tar.gz
	@if [ -n "$(EE_CA_DIR)" ] && [ -d "$(EE_CA_DIR)" ]; then \
		find "$(EE_CA_DIR)" -maxdepth 1 -name '*.crt' -exec cp {} $(E_FILES)/certs/ \; ; fi
	@echo "ee: ansible-builder build -t $(EE_IMAGE)"
	cd $(Q_ROOT) && $(E_ENV) $(E_VENV)/bin/ansible-builder build -f execution-environment.yml \
		-c $(Q_BUILD)/ee/context --container-runtime podman -t $(EE_IMAGE) -v 1 </dev/null || $(call q_fail,ee)
	@$(E_ENV) podman image prune -f >/dev/null
	@echo "ee: what the image holds"
	@$(E_ENV) podman run --rm $(EE_IMAGE) ansible-galaxy collection list mailsec.sendmail 2>/dev/null | grep mailsec.sendmail
	@$(E_ENV) podman run --rm $(EE_IMAGE) ansible --version | head -1
	@$(E_ENV) podman image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' $(EE_IMAGE)
	$(call q_end,ee)

# AWX's way: a private data dir, ansible-runner, process isolation in $(EE_IMAGE).
ee-test: ee lab-image
	$(call q_begin,ee-test,ansible-runner jobs in $(EE_IMAGE) against lab hosts)
	cd $(Q_ROOT)/tests/ee && $(E_ENV) EE_IMAGE=$(EE_IMAGE) MAILSEC_LAB_STATE=$(EE_LAB_STATE) \
		PATH="$(E_VENV)/bin:$$PATH" PYTHONPATH=$(Q_ROOT)/tests/lab \
		$(Q_BIN)/pytest -p no:cacheprovider -q . </dev/null || $(call q_fail,ee-test)
	$(call q_end,ee-test)
