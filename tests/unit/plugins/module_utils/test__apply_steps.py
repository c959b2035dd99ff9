# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Carrying out the plan's steps: safe path changes, statoverride commands, queue hazards and stale map
databases, on files in a temporary directory."""

from __future__ import annotations

import os

from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_steps import (
    apply_path, apply_pin, probe_path, probe_pin, queue_hazards, rebuild_map,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_safefs import describe
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import stale_maps


class Runner:
    """Records the commands; every one succeeds."""

    def __init__(self):
        self.calls = []

    def __call__(self, argv, data=None, cwd=None):
        self.calls.append(list(argv))
        return 0, '', ''


def path_step(path, after, follow=False):
    return {'id': 'SM-QUEUE-03', 'kind': 'path', 'phase': 'paths', 'target': path, 'follow': follow, 'before': None,
            'after': after, 'why': 'test', 'resolved': None}


def test_paths_change_on_the_file_and_links_are_refused(tmp_path):
    queue = tmp_path / 'queue'
    queue.mkdir()
    queue.chmod(0o777)
    target = tmp_path / 'shadow'
    target.write_text('secret')
    target.chmod(0o666)
    os.link(str(target), str(queue / 'qfEVIL'))
    os.symlink(str(target), str(queue / 'dfEVIL'))
    (queue / 'qfGOOD').write_text('x')
    (queue / 'qfGOOD').chmod(0o666)
    me = describe(os.stat(str(target)))
    for name in ('qfEVIL', 'dfEVIL', 'qfGOOD'):
        op = path_step(str(queue / name), {'owner': me['owner'], 'group': me['group'], 'mode': '0660'})
        assert apply_path(op, check_mode=True)['changed'] is (name == 'qfGOOD')
        assert (probe_path(op) is None) is (name == 'qfGOOD')
        done = apply_path(op, check_mode=False)
        if name == 'qfGOOD':
            assert done['changed'] and done['after']['mode'] == '0660' and done['refused'] is None
        else:
            assert done['changed'] is False and done['refused']
    assert os.stat(str(target)).st_mode & 0o777 == 0o666  # the file behind the links is untouched
    hazards = queue_hazards([str(queue)])
    assert [item['path'] for item in hazards] == [str(queue / 'dfEVIL'), str(queue / 'qfEVIL')]
    assert 'symbolic link' in hazards[0]['reason'] and '2 hard links' in hazards[1]['reason']


def test_an_unknown_owner_is_a_refusal_not_a_traceback(tmp_path):
    (tmp_path / 'file').write_text('x')
    done = apply_path(path_step(str(tmp_path / 'file'), {'owner': 'no-such-user-here', 'group': 'root', 'mode': '0644'}), False)
    assert done['changed'] is False and 'no-such-user-here does not exist' in done['refused']


def test_a_link_is_followed_when_the_step_says_so(tmp_path):
    real = tmp_path / 'aliases'
    real.write_text('root: alice\n')
    real.chmod(0o664)
    os.symlink('aliases', str(tmp_path / 'mail-aliases'))
    me = describe(os.stat(str(real)))
    op = path_step(str(tmp_path / 'mail-aliases'), {'owner': me['owner'], 'group': me['group'], 'mode': '0644'}, follow=True)
    done = apply_path(op, check_mode=False)
    assert done['changed'] and done['after']['mode'] == '0644'
    assert os.stat(str(real)).st_mode & 0o7777 == 0o644


def test_pins_remove_then_add_and_refuse_links(tmp_path):
    binary = tmp_path / 'sendmail'
    binary.write_text('x')
    runner = Runner()
    op = {'id': 'SM-SETUID-01', 'kind': 'statoverride', 'target': str(binary), 'before': 'root smmsp 6755',
          'after': 'root smmsp 2755', 'remove': True}
    assert probe_pin(op) is None and runner.calls == []
    done = apply_pin(op, runner, 'dpkg-statoverride')
    assert done['changed'] and done['error'] is None
    assert runner.calls == [['dpkg-statoverride', '--remove', str(binary)],
                            ['dpkg-statoverride', '--update', '--add', 'root', 'smmsp', '2755', str(binary)]]
    os.symlink(str(binary), str(tmp_path / 'link'))
    done = apply_pin(dict(op, target=str(tmp_path / 'link')), runner, 'dpkg-statoverride')
    assert done['refused'] and not done['changed'] and probe_pin(dict(op, target=str(tmp_path / 'link')))

    def failing(argv, data=None, cwd=None):
        return 2, '', 'dpkg-statoverride: error: syntax error: unknown user nosuch\n'

    done = apply_pin(dict(op, remove=False, after='nosuch smmsp 2755'), failing, 'dpkg-statoverride')
    assert done['error'].endswith('exited 2: dpkg-statoverride: error: syntax error: unknown user nosuch')


def test_stale_maps_and_their_rebuild(tmp_path):
    aliases = tmp_path / 'aliases'
    access = tmp_path / 'access'
    for path, mtime in ((aliases, 20), (tmp_path / 'aliases.db', 10), (access, 10), (tmp_path / 'access.db', 20)):
        path.write_text('x\n')
        os.utime(str(path), (mtime, mtime))
    state = {'layout': {'aliases': [str(aliases)], 'maps': [
        {'name': 'aliases', 'paths': [str(aliases) + '.db']},
        {'name': 'access', 'paths': [str(access), str(access) + '.db']}]},
        'configs': {'mta': {'maps': {'access': {'class': 'hash', 'file': str(access)}}}}}
    assert [item['name'] for item in stale_maps(state)] == ['aliases']
    os.utime(str(access), (30, 30))
    stale = stale_maps(state)
    assert [(item['name'], item['class']) for item in stale] == [('aliases', 'aliases'), ('access', 'hash')]
    runner = Runner()
    steps = [dict(item, map_class=item['class']) for item in stale]
    done = [rebuild_map(steps[0], runner, '/usr/sbin/sendmail', '/usr/sbin/makemap', False),
            rebuild_map(steps[1], runner, '/usr/sbin/sendmail', '/usr/sbin/makemap', True)]
    assert runner.calls == [['/usr/sbin/sendmail', '-bi'], ['/usr/sbin/makemap', 'hash', str(access)]]
    assert [item['error'] for item in done] == [None, None]
    assert done[1]['command'] == '/usr/sbin/makemap hash %s < %s' % (access, access)
    assert rebuild_map(steps[1], runner, 'sendmail', None, False)['error'] == 'makemap is not installed'
    assert rebuild_map(steps[0], runner, 'sendmail', None, True) == {'changed': True, 'command': None, 'error': None}


def test_queue_hazards_leave_out_what_sendmail_itself_makes(tmp_path):
    queue = tmp_path / 'queue'
    queue.mkdir()
    (queue / 'dfA').write_text('body')
    os.link(str(queue / 'dfA'), str(queue / 'dfB'))  # one message split into two envelopes shares its df file
    os.mkdir(str(queue / 'lost+found'))
    os.mkfifo(str(queue / 'qfPIPE'))
    hazards = queue_hazards([str(queue)])
    assert [item['path'] for item in hazards] == [str(queue / 'qfPIPE')]
    assert hazards[0]['reason'].endswith('not changed: remove it')
