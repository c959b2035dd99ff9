# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every module test shares."""

from __future__ import annotations

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils import _read_state


@pytest.fixture(autouse=True)
def nowhere_else(tmp_path, monkeypatch):
    """sendmail is looked for only where a test puts it: this machine's /proc may show the lab's daemons."""
    proc = tmp_path / 'proc'
    proc.mkdir()
    monkeypatch.setattr(_read_state, 'PLACES', {'alternatives': (), 'programs': (), 'package_lists': (), 'pid_files': (),
                                                'proc': str(proc)})
    return proc


@pytest.fixture(autouse=True)
def journal_dir(tmp_path, monkeypatch):
    """The hardening's journal is kept under the test's directory, never in this machine's /var/lib."""
    from ansible_collections.mailsec.sendmail.plugins.modules import sendmail_harden
    directory = tmp_path / 'journal'
    monkeypatch.setattr(sendmail_harden, 'JOURNAL_DIRECTORY', str(directory))
    return directory
