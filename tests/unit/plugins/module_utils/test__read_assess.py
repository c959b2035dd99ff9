# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps sendmail_drift and sendmail_harden share."""

from __future__ import annotations

import os

from ansible_collections.mailsec.sendmail.plugins.module_utils._read_assess import (
    expected_values, selection_errors, sendmail_runner, statoverride_paths,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, select


def test_selection_errors_name_every_problem():
    assert selection_errors(['queue', 'SM-RUNAS-01'], ['setuid'], {}) == []
    errors = selection_errors(['SM-NOPE-99'], ['nofamily'], {'SM-QUEUE-01': {'mode': 700}})
    assert errors[0] == 'include names SM-NOPE-99, which is no control id, family or tag'
    assert errors[1] == 'exclude names nofamily, which is no control id, family or tag'
    assert 'SM-QUEUE-01.mode' in errors[2]


def test_statoverride_paths_only_for_selected_statoverride_controls():
    assert statoverride_paths(select(['queue']), 'Debian', {}) == []
    paths = statoverride_paths([BY_ID['SM-STATOVR-01']], 'Debian', {})
    assert '/usr/libexec/sendmail/sendmail' in paths


def test_expected_values_apply_overrides_per_control():
    values = expected_values([BY_ID['SM-QUEUE-01'], BY_ID['SM-RUNAS-01']], 'Debian', {'SM-QUEUE-01': {'mode': '0750'}})
    assert values['SM-QUEUE-01']['mode'] == '0750'
    assert values['SM-RUNAS-01'] == {'user': 'smmta', 'group': 'smmsp'}


class _Module:
    """Records what the runner hands run_command."""

    def __init__(self):
        self.calls = []

    def run_command(self, argv, data=None, **kwargs):
        self.calls.append((argv, data))
        return 0, '', ''


def test_runner_writes_nothing_to_a_command_without_data_and_gives_it_devnull():
    saved = os.dup(0)
    try:
        module = _Module()
        run = sendmail_runner(module)
        assert os.path.samefile('/proc/self/fd/0', os.devnull)
        run(['sendmail', '-bv', 'root'])
        run(['m4'], data='divert(-1)\n')
        assert module.calls == [(['sendmail', '-bv', 'root'], None), (['m4'], 'divert(-1)\n')]
    finally:
        os.dup2(saved, 0)
        os.close(saved)
