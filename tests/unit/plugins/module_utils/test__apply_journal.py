# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The journal's file handling: whole-file writes, a root-only directory, and what it refuses to read."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils import _apply_journal as journals


def test_a_run_is_recorded_before_its_first_step_and_marked_as_it_goes(tmp_path):
    directory = tmp_path / 'journal'
    kept = tmp_path / 'sendmail.cf'
    kept.write_text('O RunAsUser=root\n')
    os.chmod(str(kept), 0o640)
    journal = journals.Journal(str(directory))
    journal.start([{'step': {'kind': 'path', 'target': '/etc/mail'}, 'record': {'before': {'mode': '2775'}}}],
                  {'running': True}, {str(kept): journals.read_copy(str(kept))})
    assert os.stat(str(directory)).st_mode & 0o777 == 0o700
    loaded = journals.load(str(directory))
    assert loaded['status'] == 'applying' and journals.unfinished(loaded)
    assert loaded['steps'][0]['state'] == 'planned' and loaded['daemon'] == {'running': True}
    journal.mark(0, 'begun')
    journal.mark(0, 'done', changed=True)
    journal.phase_done('paths')
    journal.finish('done')
    loaded = journals.load(str(directory))
    assert loaded['steps'][0]['state'] == 'done' and loaded['phases_done'] == ['paths'] and not journals.unfinished(loaded)
    # Only the journal and the copies are there: no temporary file is left behind.
    assert sorted(os.listdir(str(directory))) == ['files.%s' % loaded['run'], 'journal.json']
    kept.write_text('changed\n')
    journals.restore_copy(str(kept), loaded['copies'][str(kept)])
    assert kept.read_text() == 'O RunAsUser=root\n' and os.stat(str(kept)).st_mode & 0o777 == 0o640


def test_the_copies_of_a_killed_run_are_kept_over_newer_ones(tmp_path):
    directory = tmp_path / 'journal'
    kept = tmp_path / 'aliases'
    kept.write_text('original\n')
    first = journals.Journal(str(directory))
    first.start([], {'running': True}, {str(kept): journals.read_copy(str(kept))})
    inherited = journals.load(str(directory))['copies']
    kept.write_text('half way\n')
    second = journals.Journal(str(directory))
    second.start([], {'running': True}, {str(kept): journals.read_copy(str(kept))}, inherited)
    journals.restore_copy(str(kept), journals.load(str(directory))['copies'][str(kept)])
    assert kept.read_text() == 'original\n'


@pytest.mark.parametrize('text, said', [
    ('{not json', 'is not a journal of this collection'),
    (json.dumps({'format': 99}), 'has a format this collection does not read'),
])
def test_a_journal_it_cannot_read_is_a_clear_error(tmp_path, text, said):
    (tmp_path / 'journal.json').write_text(text)
    with pytest.raises(journals.JournalError, match=said):
        journals.load(str(tmp_path))


def test_no_journal_is_none(tmp_path):
    assert journals.load(str(tmp_path)) is None


def test_a_journal_directory_of_another_user_is_refused(tmp_path):
    directory = tmp_path / 'elsewhere'
    directory.mkdir()
    os.chown(str(directory), 1, 1)
    with pytest.raises(journals.JournalError, match='is writable by others than root'):
        journals.ensure_directory(str(directory))


def test_the_restart_mark_is_set_and_taken_away(tmp_path):
    directory = str(tmp_path / 'journal')
    assert not journals.restart_owed(directory)
    journals.mark_restart(directory, True)
    assert journals.restart_owed(directory)
    journals.mark_restart(directory, False)
    assert not journals.restart_owed(directory)
