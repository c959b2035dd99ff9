# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters the roles read their tags and variables through."""

from __future__ import annotations

import importlib

import pytest

from ansible.module_utils import _internal

PREFIX = 'ansible_collections.mailsec.sendmail.plugins.filter.'


@pytest.fixture(name='filters')
def fixture_filters():
    """The filter functions by name. Filters are controller code: importing them marks the process as the controller,
    and from then on a module's warnings go to the controller's display instead of its result. The module tests that
    run after these read warnings from results, so the mark is taken back."""
    was = _internal.is_controller
    try:
        found = {}
        for name in ('control_words', 'input_errors'):
            found.update(importlib.import_module(PREFIX + name).FilterModule().filters())
        found['error'] = importlib.import_module('ansible.errors').AnsibleFilterError
        yield found
    finally:
        _internal.is_controller = was


def test_control_words_keeps_the_words_that_name_controls_in_their_order(filters):
    assert filters['control_words'](['site', 'SM-QUEUE-01', 'setuid', 'SM-QUEUE-99']) == ['SM-QUEUE-01', 'setuid']


def test_input_errors_names_a_misspelled_control_id_given_as_a_tag(filters):
    assert filters['input_errors']({}, 'hardening', ['SM-SETGUID-01'], []) == [
        '--tags names SM-SETGUID-01, which is no control id (docs/controls.md lists them)']


def test_input_errors_names_the_variable_and_what_it_expects(filters):
    assert filters['input_errors']({'sendmail_hardening_run_as_user': True}, 'hardening') == [
        "sendmail_hardening_run_as_user must be a user or user:group (or '' to leave RunAsUser alone, null for "
        "the distribution's MTA user), not a boolean (true)"]


def test_input_errors_refuses_a_role_it_does_not_know(filters):
    with pytest.raises(filters['error']):
        filters['input_errors']({}, 'nosuchrole')
