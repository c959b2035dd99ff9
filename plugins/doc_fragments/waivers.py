# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The waivers the audit and the hardening share: one list, documented once."""

from __future__ import annotations


class ModuleDocFragment:
    """Options waivers and host_name of sendmail_drift and sendmail_harden."""

    DOCUMENTATION = r'''
options:
  waivers:
    description:
      - Accepted deviations, one list for the audit (M(mailsec.sendmail.sendmail_drift)) and the hardening
        (M(mailsec.sendmail.sendmail_harden)). A control with an active waiver for O(host_name) that fails is reported
        with status V(waived), its finding carrying the waiver, and the hardening leaves it as it is (a fix that needs
        it is held back).
      - An expired waiver no longer applies; the control fails again, and is fixed as any other, with a note.
      - Invalid waivers (an unknown id, no reason, a date that is not YYYY-MM-DD) fail the task before anything is read.
    type: list
    elements: dict
    default: []
    suboptions:
      id:
        description: The control id.
        type: str
        required: true
      hosts:
        description: Shell-style pattern matched against O(host_name).
        type: str
        default: '*'
      reason:
        description: Why the deviation is accepted.
        type: str
        required: true
      expires:
        description: Last day the waiver applies, as YYYY-MM-DD; none means it does not expire.
        type: str
  host_name:
    description:
      - The name the waivers' O(waivers[].hosts) patterns are matched against; the roles pass C(inventory_hostname).
    type: str
    default: ''
'''
