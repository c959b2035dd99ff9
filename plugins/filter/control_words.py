# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The words of a list that name controls of the catalogue: how the hardening role reads --tags and --skip-tags."""

from __future__ import annotations

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
