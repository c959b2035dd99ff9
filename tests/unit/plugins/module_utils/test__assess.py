# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The steps sendmail_drift and sendmail_harden share."""

from __future__ import annotations

from ansible_collections.mailsec.sendmail.plugins.module_utils._assess import (
    expected_values, selection_errors, statoverride_paths,
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
