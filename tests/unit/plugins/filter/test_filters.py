# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters the roles read their tags and variables through."""

from __future__ import annotations

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.mailsec.sendmail.plugins.filter.control_words import control_words
from ansible_collections.mailsec.sendmail.plugins.filter.input_errors import input_errors


def test_control_words_keeps_the_words_that_name_controls_in_their_order():
    assert control_words(['site', 'SM-QUEUE-01', 'setuid', 'SM-QUEUE-99']) == ['SM-QUEUE-01', 'setuid']


def test_input_errors_names_a_misspelled_control_id_given_as_a_tag():
    assert input_errors({}, 'hardening', ['SM-SETGUID-01'], []) == [
        '--tags names SM-SETGUID-01, which is no control id (docs/controls.md lists them)']


def test_input_errors_names_the_variable_and_what_it_expects():
    assert input_errors({'sendmail_hardening_run_as_user': True}, 'hardening') == [
        "sendmail_hardening_run_as_user must be a user or user:group (or '' to leave RunAsUser alone, null for "
        "the distribution's MTA user), not a boolean (true)"]


def test_input_errors_refuses_a_role_it_does_not_know():
    with pytest.raises(AnsibleFilterError):
        input_errors({}, 'nosuchrole')
