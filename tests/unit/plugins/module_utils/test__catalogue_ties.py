# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The families, severities, statuses and choices are listed once, in the catalogue: the modules' documented
choices and the hardening role's variables must say the same."""

from __future__ import annotations

import os

import yaml

from ansible_collections.mailsec.sendmail.plugins.doc_fragments import waivers
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import (
    AUDIT_ONLY_FAMILIES, BY_ID, FAMILIES, SEVERITIES, SMRSH_DIRS, STATUSES,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import WAIVER_OPTIONS
from ansible_collections.mailsec.sendmail.plugins.module_utils._platform import DEBIAN
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import CF_SOURCES
from ansible_collections.mailsec.sendmail.plugins.modules import sendmail_drift, sendmail_harden

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
ROLE = os.path.join(ROOT, 'roles', 'sendmail_hardening')
HARDENED = [family for family in FAMILIES if family not in AUDIT_ONLY_FAMILIES]


def load(path):
    with open(path, encoding='utf-8') as handle:
        return yaml.safe_load(handle)


def test_drift_documents_the_catalogues_families_severities_and_statuses():
    finding = yaml.safe_load(sendmail_drift.RETURN)['findings']['contains']
    assert finding['family']['choices'] == list(FAMILIES)
    assert finding['severity']['choices'] == list(SEVERITIES)
    assert finding['status']['choices'] == list(STATUSES)


def test_harden_documents_the_cf_sources_it_accepts():
    assert yaml.safe_load(sendmail_harden.DOCUMENTATION)['options']['cf_source']['choices'] == list(CF_SOURCES)
    spec = load(os.path.join(ROLE, 'meta', 'argument_specs.yml'))['argument_specs']['main']['options']
    assert spec['sendmail_hardening_cf_source']['choices'] == list(CF_SOURCES)


def test_the_role_switches_every_family_it_hardens_and_no_other():
    defaults = load(os.path.join(ROLE, 'defaults', 'main.yml'))
    spec = load(os.path.join(ROLE, 'meta', 'argument_specs.yml'))['argument_specs']['main']['options']
    internals = load(os.path.join(ROLE, 'vars', 'main.yml'))
    switches = sorted(name[len('sendmail_hardening_'):] for name in defaults if name[len('sendmail_hardening_'):] in FAMILIES)
    assert switches == sorted(HARDENED)
    assert all(spec['sendmail_hardening_%s' % family]['type'] == 'bool' for family in HARDENED)
    assert sorted(internals['__sendmail_hardening_families']) == sorted(HARDENED)
    assert all('sendmail_hardening_%s ' % family in internals['__sendmail_hardening_families'][family] for family in HARDENED)


def test_one_waiver_list_serves_the_audit_and_the_hardening():
    """The hardening role takes the audit role's waivers by default, with the same keys, and passes them to a
    module that takes them as sendmail_drift does."""
    defaults = load(os.path.join(ROLE, 'defaults', 'main.yml'))
    assert defaults['sendmail_hardening_waivers'] == '{{ sendmail_audit_waivers | default([]) }}'
    spec = load(os.path.join(ROLE, 'meta', 'argument_specs.yml'))['argument_specs']['main']['options']
    audit = load(os.path.join(ROOT, 'roles', 'sendmail_audit', 'meta', 'argument_specs.yml'))['argument_specs']['main']['options']

    def keys(options):
        return {name: (item['type'], item.get('required', False)) for name, item in options.items()}
    assert keys(spec['sendmail_hardening_waivers']['options']) == keys(audit['sendmail_audit_waivers']['options'])
    # Both modules take the options from one doc fragment, as they take them from one argument spec.
    for module in (sendmail_harden, sendmail_drift):
        assert yaml.safe_load(module.DOCUMENTATION)['extends_documentation_fragment'] == ['mailsec.sendmail.waivers']
    fragment = yaml.safe_load(waivers.ModuleDocFragment.DOCUMENTATION)['options']
    # The roles ask for an expiry date; the modules take a waiver without one.
    assert {name: item['type'] for name, item in fragment['waivers']['suboptions'].items()} == {
        name: item['type'] for name, item in audit['sendmail_audit_waivers']['options'].items()}
    assert {name: item.get('type') for name, item in WAIVER_OPTIONS['waivers']['options'].items()} == {
        name: item['type'] for name, item in fragment['waivers']['suboptions'].items()}
    assert fragment['host_name']['default'] == WAIVER_OPTIONS['host_name']['default'] == ''
    returned = yaml.safe_load(sendmail_harden.RETURN)
    assert 'notes' in returned and 'waived' in str(returned['not_done']['description'])
    with open(os.path.join(ROLE, 'tasks', 'harden.yml'), encoding='utf-8') as handle:
        tasks = yaml.safe_load(handle)
    harden_task = next(task for task in tasks if 'mailsec.sendmail.sendmail_harden' in task)['mailsec.sendmail.sendmail_harden']
    assert harden_task['waivers'] == '{{ sendmail_hardening_waivers }}'
    assert harden_task['host_name'] == '{{ inventory_hostname }}'


def test_the_directories_kept_through_package_updates_are_those_of_path_controls_the_hardening_fixes():
    """The role names the directories Debian's update_sendmail resets, by control; the owners and modes it keeps come
    from the host as the hardening left it, so each control must be one the hardening fixes by owner and mode."""
    resets = DEBIAN['update_hook']['resets']
    assert sorted(resets) == ['SM-FILE-01', 'SM-PROG-02', 'SM-QUEUE-01']
    role_vars = load(os.path.join(ROLE, 'vars', 'main.yml'))
    assert 'update_hook' in role_vars['__sendmail_hardening_update_hook']
    assert '__sendmail_hardening_update_hook.resets' in role_vars['__sendmail_hardening_debian_resets']
    for control_id in resets:
        assert BY_ID[control_id]['evaluator'] == 'path_set'
        assert [action['kind'] for action in BY_ID[control_id]['fix_data']] == ['path_attributes']
    assert resets['SM-PROG-02'] == SMRSH_DIRS[0]
    assert BY_ID['SM-FILE-01']['params']['targets'] == ['config_dirs']
    assert BY_ID['SM-QUEUE-01']['params']['targets'] == ['queue_mta']
