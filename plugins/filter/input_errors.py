# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What is wrong with a role's variables and the tags given: how the roles refuse bad input before any host is read."""

from __future__ import annotations

DOCUMENTATION = r'''
name: input_errors
author: mailsec.sendmail developers (!UNKNOWN)
version_added: 0.1.0
short_description: What is wrong with the variables of a mailsec.sendmail role
description:
  - Checks the variables of the V(audit) or V(hardening) role as the role's tasks will use them, and the words of
    C(--tags) and C(--skip-tags), and returns one sentence per problem, naming the variable and what it expects.
  - Control ids, families and tags (include, exclude), expected values and waivers are checked by the same rules the
    modules apply to their options, so that a role refuses bad input before it reads a host or writes a report.
  - A tag that looks like a control id (it starts with V(SM-)) but names none is a problem; other tags may belong to
    the playbook the role is in, and pass.
options:
  _input:
    description: The role's variables, by name (such as C(sendmail_hardening_exclude)); those not given are not checked.
    type: dict
    required: true
  role:
    description: Which role the variables are for.
    type: str
    choices: [audit, hardening]
    required: true
  run_tags:
    description: The words of C(--tags), such as C(ansible_run_tags).
    type: list
    elements: str
    default: []
  skip_tags:
    description: The words of C(--skip-tags), such as C(ansible_skip_tags).
    type: list
    elements: str
    default: []
'''

EXAMPLES = r'''
- name: Refuse bad input before any host is read
  ansible.builtin.assert:
    that: __errors | length == 0
    fail_msg: "{{ __errors | join('; ') }}"
  vars:
    __errors: >-
      {{ {'sendmail_hardening_exclude': sendmail_hardening_exclude}
         | mailsec.sendmail.input_errors('hardening', ansible_run_tags, ansible_skip_tags) }}
# ["--tags names SM-QUEUE-99, which is no control id (docs/controls.md lists them)"] for --tags SM-QUEUE-99
'''

RETURN = r'''
_value:
  description: One sentence per problem; empty when the input is right.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible_collections.mailsec.sendmail.plugins.module_utils._inputs import CHECKS, role_input_errors


def input_errors(values, role, run_tags=(), skip_tags=()) -> list:
    """One sentence per problem of ``values`` (a role's variables) and of the tags."""
    if not isinstance(values, dict):
        raise AnsibleFilterError('input_errors expects a dict of the role variables to check')
    if role not in CHECKS:
        raise AnsibleFilterError('input_errors: role must be one of %s, not %r' % (', '.join(CHECKS), role))
    return role_input_errors(role, dict(values), list(run_tags or ()), list(skip_tags or ()))


class FilterModule:
    """mailsec.sendmail filters."""

    def filters(self):
        return {'input_errors': input_errors}
