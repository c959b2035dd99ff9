# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Carrying out the plan: .mc batches (validated before anything is installed), safe path changes,
statoverride commands, queue hazards and stale map databases, on files in a temporary directory."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._cfbuild import BuildError
from ansible_collections.mailsec.sendmail.plugins.module_utils._harden_apply import (
    apply_path, apply_pin, install_mc, prepare_mc, queue_hazards, read_text, rebuild_maps, stale_maps,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._safefs import describe

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
NAMES = {'confRUN_AS_USER': 'RunAsUser', 'confDONT_BLAME_SENDMAIL': 'DontBlameSendmail', 'confQUEUE_FILE_MODE': 'QueueFileMode'}


class Runner:
    """m4 and sendmail stand-ins: m4 makes a small .cf of the known defines; sendmail -C rejects RunAsUser=nosuch."""

    def __init__(self):
        self.calls = []

    def __call__(self, argv, data=None, cwd=None):
        self.calls.append(list(argv))
        if argv[0] == 'm4':
            if 'no_such_feature' in data:
                return 1, '', "m4:stdin:100: cannot open `no_such_feature.m4': No such file or directory\n"
            lines = ['V10/Berkeley', 'O QueueDirectory=/var/spool/mqueue']
            for name, value in re.findall(r"^define\(`(\w+)', `([^']*)'\)", data, re.M):
                if name in NAMES:
                    lines.append('O %s=%s' % (NAMES[name], value))
            return 0, '\n'.join(lines) + '\n', ''
        if argv[1] == '-C':
            with open(argv[2], encoding='utf-8') as handle:
                if 'RunAsUser=nosuch' in handle.read():
                    return 70, '%s: line 3: readcf: option RunAsUser: unknown user nosuch\n' % argv[2], ''
            return 0, 'root... deliverable\n', ''
        return 0, '', ''


@pytest.fixture
def etc(tmp_path):
    directory = tmp_path / 'mail'
    directory.mkdir()
    shutil.copy(os.path.join(FIXTURES, 'bookworm', 'sendmail.mc'), str(directory / 'sendmail.mc'))
    (directory / 'sendmail.cf').write_text('V10/Berkeley\nO QueueDirectory=/var/spool/mqueue\n')
    os.utime(str(directory / 'sendmail.mc'), (1, 1))
    return directory


def batch(etc, **defines):
    return {'mc': str(etc / 'sendmail.mc'), 'cf': str(etc / 'sendmail.cf'), 'role': 'mta', 'defines': defines,
            'controls': ['SM-RUNAS-01'], 'by_define': {name: ['SM-RUNAS-01'] for name in defines}}


def write(path, text):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


def snapshot(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(str(directory)))}


def test_prepare_validates_without_writing_and_install_writes_both(etc, tmp_path):
    runner = Runner()
    before = snapshot(etc)
    work = tmp_path / 'work'
    work.mkdir()
    prepared = prepare_mc(batch(etc, confRUN_AS_USER='smmta:smmsp', confDONT_BLAME_SENDMAIL='safe'), runner, 'm4', 'sendmail', str(work))
    assert snapshot(etc) == before and os.listdir(str(work)) == []
    assert prepared['mc_changed'] and prepared['cf_changed']
    assert prepared['cf_changes'] == {'DontBlameSendmail': {'before': [], 'after': ['safe']},
                                      'RunAsUser': {'before': [], 'after': ['smmta:smmsp']}}
    assert [call[:2] for call in runner.calls] == [['m4'], ['sendmail', '-C']]
    install_mc(prepared, runner, 'm4', 'sendmail', write)
    assert "define(`confRUN_AS_USER', `smmta:smmsp')dnl\n" in (etc / 'sendmail.mc').read_text()
    assert 'O RunAsUser=smmta:smmsp' in (etc / 'sendmail.cf').read_text()
    assert os.stat(str(etc / 'sendmail.cf')).st_mtime_ns >= os.stat(str(etc / 'sendmail.mc')).st_mtime_ns
    again = prepare_mc(batch(etc, confRUN_AS_USER='smmta:smmsp', confDONT_BLAME_SENDMAIL='safe'), runner, 'm4', 'sendmail', str(work))
    assert not again['mc_changed'] and not again['cf_changed']


@pytest.mark.parametrize('defines, message', [
    ({'confRUN_AS_USER': 'nosuch'}, 'sendmail rejected|sendmail.cf'),
    ({'confRUN_AS_USER': "bad'quote"}, 'Cannot change .*sendmail.mc'),
])
def test_a_rejected_batch_changes_nothing(etc, tmp_path, defines, message):
    before = snapshot(etc)
    with pytest.raises(BuildError, match=message):
        prepare_mc(batch(etc, **defines), Runner(), 'm4', 'sendmail', str(tmp_path))
    assert snapshot(etc) == before


def test_m4_errors_name_the_files(etc, tmp_path):
    text = (etc / 'sendmail.mc').read_text().replace('MAILER_DEFINITIONS', "FEATURE(`no_such_feature')dnl\nMAILER_DEFINITIONS", 1)
    (etc / 'sendmail.mc').write_text(text)
    before = snapshot(etc)
    with pytest.raises(BuildError, match=r'm4 could not build .*sendmail.cf from .*sendmail.mc'):
        prepare_mc(batch(etc, confDONT_BLAME_SENDMAIL='safe'), Runner(), 'm4', 'sendmail', str(tmp_path))
    assert snapshot(etc) == before


def test_a_linked_mc_is_refused(etc, tmp_path):
    os.rename(str(etc / 'sendmail.mc'), str(tmp_path / 'real.mc'))
    os.symlink(str(tmp_path / 'real.mc'), str(etc / 'sendmail.mc'))
    with pytest.raises(BuildError, match='is a symbolic link'):
        read_text(str(etc / 'sendmail.mc'))


def test_install_puts_the_mc_back_when_the_cf_cannot_be_installed(etc, tmp_path, monkeypatch):
    runner = Runner()
    prepared = prepare_mc(batch(etc, confDONT_BLAME_SENDMAIL='safe'), runner, 'm4', 'sendmail', str(tmp_path))
    old = (etc / 'sendmail.mc').read_text()

    def broken_rename(source, target):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'rename', broken_rename)
    with pytest.raises(OSError):
        install_mc(prepared, runner, 'm4', 'sendmail', write)
    assert (etc / 'sendmail.mc').read_text() == old


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
        op = {'path': str(queue / name), 'follow': False, 'before': None, 'target': None,
              'after': {'owner': me['owner'], 'group': me['group'], 'mode': '0660'}}
        assert apply_path(op, check_mode=True)['changed'] is (name == 'qfGOOD')
        done = apply_path(op, check_mode=False)
        if name == 'qfGOOD':
            assert done['changed'] and done['after']['mode'] == '0660' and done['refused'] is None
        else:
            assert done['changed'] is False and done['refused']
    assert os.stat(str(target)).st_mode & 0o777 == 0o666  # the file behind the links is untouched
    hazards = queue_hazards([str(queue)])
    assert [item['path'] for item in hazards] == [str(queue / 'dfEVIL'), str(queue / 'qfEVIL')]
    assert 'symbolic link' in hazards[0]['reason'] and '2 hard links' in hazards[1]['reason']


def test_a_link_is_followed_when_the_action_says_so(tmp_path):
    real = tmp_path / 'aliases'
    real.write_text('root: alice\n')
    real.chmod(0o664)
    os.symlink('aliases', str(tmp_path / 'mail-aliases'))
    me = describe(os.stat(str(real)))
    op = {'path': str(tmp_path / 'mail-aliases'), 'follow': True, 'before': None, 'target': str(real),
          'after': {'owner': me['owner'], 'group': me['group'], 'mode': '0644'}}
    done = apply_path(op, check_mode=False)
    assert done['changed'] and done['target'] == str(real)
    assert os.stat(str(real)).st_mode & 0o7777 == 0o644


def test_pins_remove_then_add_and_refuse_links(tmp_path):
    binary = tmp_path / 'sendmail'
    binary.write_text('x')
    runner = Runner()
    op = {'path': str(binary), 'before': 'root smmsp 6755', 'after': 'root smmsp 2755', 'remove': True}
    assert apply_pin(op, runner, 'dpkg-statoverride', check_mode=True)['changed'] and runner.calls == []
    done = apply_pin(op, runner, 'dpkg-statoverride', check_mode=False)
    assert done['changed'] and done['error'] is None
    assert runner.calls == [['dpkg-statoverride', '--remove', str(binary)],
                            ['dpkg-statoverride', '--update', '--add', 'root', 'smmsp', '2755', str(binary)]]
    os.symlink(str(binary), str(tmp_path / 'link'))
    done = apply_pin(dict(op, path=str(tmp_path / 'link')), runner, 'dpkg-statoverride', check_mode=False)
    assert done['refused'] and not done['changed']

    def failing(argv, data=None, cwd=None):
        return 2, '', 'dpkg-statoverride: error: syntax error: unknown user nosuch\n'

    done = apply_pin(dict(op, remove=False, after='nosuch smmsp 2755'), failing, 'dpkg-statoverride', check_mode=False)
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
    done = rebuild_maps(stale, runner, '/usr/sbin/sendmail', '/usr/sbin/makemap')
    assert runner.calls == [['/usr/sbin/sendmail', '-bi'], ['/usr/sbin/makemap', 'hash', str(access)]]
    assert [item['error'] for item in done] == [None, None]
    assert done[1]['command'] == '/usr/sbin/makemap hash %s < %s' % (access, access)
    assert rebuild_maps(stale[1:], runner, 'sendmail', None)[0]['error'] == 'makemap is not installed'
