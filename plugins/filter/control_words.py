# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The words of a list that name controls of the catalogue: how the hardening role reads --tags and --skip-tags."""

from __future__ import annotations

DOCUMENTATION = r'''
name: control_words
author: mailsec.sendmail developers (!UNKNOWN)
version_added: 0.2.0
short_description: The words of a list that name sendmail controls
description:
  - Keeps the words that are a control id (such as V(SM-QUEUE-01)), a family (such as V(privilege)) or a tag of the
    controls catalogue (such as V(setuid)), and drops the others, in their order.
  - The hardening role passes C(ansible_run_tags) and C(ansible_skip_tags) through it, so that C(--tags X) applies
    exactly the controls X names and C(--skip-tags X) every other one.
options:
  _input:
    description: Words, such as C(ansible_run_tags).
    type: list
    elements: str
    required: true
'''

EXAMPLES = r'''
- name: The controls --tags names
  ansible.builtin.debug:
    msg: "{{ ansible_run_tags | mailsec.sendmail.control_words }}"
# ['setuid', 'SM-QUEUE-01'] for --tags setuid,SM-QUEUE-01,site
'''

RETURN = r'''
_value:
  description: The words that name controls, families or catalogue tags.
  type: list
  elements: str
'''

from ansible.errors import AnsibleFilterError
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import selectors


def control_words(words) -> list:
    """The words among ``words`` that are a control id, a family or a catalogue tag, in their order."""
    if not isinstance(words, (list, tuple)) or not all(isinstance(word, str) for word in words):
        raise AnsibleFilterError('control_words expects a list of strings, such as ansible_run_tags')
    known = selectors()
    return [word for word in words if word in known]


class FilterModule:
    """mailsec.sendmail filters."""

    def filters(self):
        return {'control_words': control_words}
