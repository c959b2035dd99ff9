# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import grp
import os
import pwd
import shutil

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_cfbuild import (
    BuildError, check, commit, discard_stand_in, option_changes, prepare, queue_stand_in, read_pair, read_text, render_cf,
    source_trailer, validate_cf,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def fixture(release, name):
    with open(os.path.join(FIXTURES, release, name), encoding='utf-8') as handle:
        return handle.read()


# What m4 prints for Debian's sendmail.mc: the installed .cf without Debian's trailer.
M4_OUTPUT = fixture('bookworm', 'sendmail.cf').split('### /etc/mail/sendmail.mc ###\n')[0]


class Runner:
    """Plays m4 and sendmail; records every call."""

    def __init__(self, m4=(0, M4_OUTPUT, ''), sendmail=(0, 'root... deliverable: mailer local, user root\n', ''), error=None):
        self.m4 = m4
        self.sendmail = sendmail
        self.error = error
        self.calls = []
        self.candidates = []

    def __call__(self, argv, data=None, cwd=None):
        self.calls.append({'argv': list(argv), 'data': data, 'cwd': cwd})
        if self.error:
            raise self.error
        if argv[0].endswith('m4'):
            return self.m4
        candidate = argv[2]
        with open(candidate, encoding='utf-8') as handle:
            self.candidates.append({'path': candidate, 'text': handle.read(), 'mode': os.stat(candidate).st_mode & 0o7777})
        return self.sendmail


@pytest.fixture
def etc(tmp_path):
    """A /etc/mail with Debian's bookworm sendmail.mc and sendmail.cf."""
    for name in ('sendmail.mc', 'sendmail.cf'):
        shutil.copy(os.path.join(FIXTURES, 'bookworm', name), str(tmp_path / name))
    return tmp_path


def snapshot(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


def test_render_reads_the_mc_text_in_its_directory(etc):
    runner = Runner()
    mc_text = (etc / 'sendmail.mc').read_text()
    text = render_cf(mc_text, str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), runner, m4='/usr/bin/m4')
    assert runner.calls == [{'argv': ['/usr/bin/m4'], 'data': mc_text, 'cwd': str(etc)}]
    assert text == M4_OUTPUT + source_trailer(str(etc / 'sendmail.mc'), mc_text)


def test_trailer_is_debians():
    """Debian's Makefile: echo "### /etc/mail/sendmail.mc ###"; sed -e 's/^/# /' sendmail.mc."""
    installed = fixture('bookworm', 'sendmail.cf')
    mc_text = fixture('bookworm', 'sendmail.mc')
    assert installed.endswith(source_trailer('/etc/mail/sendmail.mc', mc_text))


def write(path, text):
    with open(path, 'w', encoding='utf-8') as handle:
        handle.write(text)


def rebuild(etc, runner, mc_new=None, options=None, source='mc'):
    """A prepared change of the fixture's .mc and .cf."""
    return prepare(read_pair(str(etc / 'sendmail.cf'), str(etc / 'sendmail.mc')), source, mc_new, options or {}, runner, 'm4')


def test_commit_installs_after_sendmail_accepts(etc):
    os.chmod(etc / 'sendmail.cf', 0o640)
    runner = Runner(m4=(0, M4_OUTPUT + 'O RunAsUser=smmta:smmsp\n', ''))
    backups = []

    def backup(path):
        backups.append(path)
        shutil.copy(path, path + '.bak')
        return path + '.bak'

    old = (etc / 'sendmail.cf').read_text()
    change = rebuild(etc, runner)
    assert change['cf_changed'] and not change['mc_changed'] and change['dropped'] == []
    assert change['cf_changes'] == {'RunAsUser': {'before': [], 'after': ['smmta:smmsp']}}
    copies = commit(change, runner, '/usr/sbin/sendmail', write, backup=backup)
    assert copies == [str(etc / 'sendmail.cf.bak')]
    assert (etc / 'sendmail.cf.bak').read_text() == old
    assert (etc / 'sendmail.cf').read_text() == change['cf_new']
    assert os.stat(etc / 'sendmail.cf').st_mode & 0o7777 == 0o640
    # sendmail read a candidate in the same directory, already with the final mode
    (checked,) = runner.candidates
    assert os.path.dirname(checked['path']) == str(etc)
    assert checked['mode'] == 0o640
    assert runner.calls[1]['argv'] == ['/usr/sbin/sendmail', '-C', checked['path'], '-bv', 'root']
    assert sorted(os.listdir(etc)) == ['sendmail.cf', 'sendmail.cf.bak', 'sendmail.mc']


def test_the_candidate_takes_the_mode_the_cf_has_at_install_time(etc):
    """A path fix made between planning and installing (0664 -> 0644) is kept."""
    os.chmod(etc / 'sendmail.cf', 0o664)
    change = rebuild(etc, Runner(), options={'RunAsUser': 'smmta'}, source='cf')
    os.chmod(etc / 'sendmail.cf', 0o644)
    commit(change, Runner(), 'sendmail', write)
    assert os.stat(etc / 'sendmail.cf').st_mode & 0o7777 == 0o644


def test_an_unchanged_cf_from_its_mc_is_not_rebuilt(etc):
    os.utime(etc / 'sendmail.mc', (1, 1))
    change = rebuild(etc, Runner())
    assert not change['cf_changed'] and not change['mc_changed']
    assert commit(change, Runner(), 'sendmail', lambda *a: pytest.fail('no write')) == []


def test_a_rebuild_lists_the_hand_edits_it_drops(etc):
    (etc / 'sendmail.cf').write_text((etc / 'sendmail.cf').read_text().replace('O QueueDirectory=', 'O MaxMessageSize=5000000\nO QueueDirectory='))
    change = rebuild(etc, Runner())
    assert change['cf_changed']
    assert [item['text'] for item in change['dropped']] == ['O MaxMessageSize=5000000']


def test_an_in_place_edit_keeps_every_other_line(etc):
    text = (etc / 'sendmail.cf').read_text().replace('O QueueDirectory=', 'O MaxMessageSize=5000000\nO QueueDirectory=')
    (etc / 'sendmail.cf').write_text(text)
    runner = Runner()
    change = rebuild(etc, runner, options={'RunAsUser': 'smmta:smmsp', 'DontBlameSendmail': 'safe'}, source='cf')
    assert runner.calls == []  # no m4
    assert change['cf_changes'] == {'DontBlameSendmail': {'before': [change['cf_changes']['DontBlameSendmail']['before'][0]],
                                                          'after': ['safe']},
                                    'RunAsUser': {'before': [], 'after': ['smmta:smmsp']}}
    kept = [line for line in text.splitlines() if 'DontBlameSendmail' not in line and 'RunAsUser' not in line]
    assert [line for line in change['cf_new'].splitlines() if 'DontBlameSendmail' not in line and 'RunAsUser' not in line] == kept
    commit(change, runner, 'sendmail', write)
    assert 'O MaxMessageSize=5000000' in (etc / 'sendmail.cf').read_text()


def test_the_mc_and_the_cf_are_written_together(etc):
    mc_text = (etc / 'sendmail.mc').read_text()
    new_mc = mc_text.replace('MAILER_DEFINITIONS', "define(`confRUN_AS_USER', `smmta')dnl\nMAILER_DEFINITIONS", 1)
    change = rebuild(etc, Runner(), mc_new=new_mc, options={'RunAsUser': 'smmta'}, source='cf')
    assert change['mc_changed'] and change['cf_changed']
    commit(change, Runner(), 'sendmail', write)
    assert (etc / 'sendmail.mc').read_text() == new_mc
    assert 'O RunAsUser=smmta' in (etc / 'sendmail.cf').read_text()
    assert os.stat(etc / 'sendmail.cf').st_mtime_ns >= os.stat(etc / 'sendmail.mc').st_mtime_ns


def test_new_cf_is_0644(etc):
    os.unlink(etc / 'sendmail.cf')
    change = rebuild(etc, Runner())
    assert change['cf_changed']
    assert commit(change, Runner(), 'sendmail', write, backup=lambda path: pytest.fail('no backup')) == []
    assert os.stat(etc / 'sendmail.cf').st_mode & 0o7777 == 0o644


def test_no_cf_to_edit_in_place(etc):
    os.unlink(etc / 'sendmail.cf')
    with pytest.raises(BuildError, match='does not exist, so it cannot be edited in place'):
        rebuild(etc, Runner(), options={'RunAsUser': 'smmta'}, source='cf')


@pytest.mark.parametrize('m4, message', [
    ((1, '', "m4:stdin:100: cannot open `/usr/share/sendmail/cf/feature/nosuch.m4': No such file or directory\n"),
     r"m4 could not build .*sendmail\.cf from .*sendmail\.mc \(exit 1: m4:stdin:100: cannot open"),
    ((0, M4_OUTPUT, '*** ERROR: FEATURE() should be before MAILER()\n'),
     r'\(exit 0: \*\*\* ERROR: FEATURE\(\) should be before MAILER\(\)\); fix the \.mc, nothing was changed\.$'),
    ((0, 'divert(0)\n', ''), r'm4 made no sendmail configuration'),
])
def test_m4_failure_changes_nothing(etc, m4, message):
    before = snapshot(etc)
    runner = Runner(m4=m4)
    with pytest.raises(BuildError, match=message):
        rebuild(etc, runner, mc_new='x')
    assert snapshot(etc) == before
    assert len(runner.calls) == 1


def test_sendmail_rejection_changes_nothing(etc, tmp_path_factory):
    before = snapshot(etc)
    runner = Runner(sendmail=(70, '', '/etc/mail/.sendmail.cf.x.tmp: line 490: readcf: option RunAsUser: unknown user nosuch\n'))

    def rejected(argv, data=None, cwd=None):
        rc, out, err = runner(argv, data, cwd)
        return rc, out, err.replace('/etc/mail/.sendmail.cf.x.tmp', argv[2]) if len(argv) > 2 else err

    change = rebuild(etc, rejected, options={'RunAsUser': 'nosuch'}, source='cf')
    with pytest.raises(BuildError) as caught:
        commit(change, rejected, 'sendmail', lambda *a: pytest.fail('not now'))
    assert str(caught.value) == (
        'sendmail rejected the configuration built for %s (exit 70: %s: line 490: readcf: option RunAsUser: unknown user nosuch); '
        'nothing was changed.' % (etc / 'sendmail.cf', etc / 'sendmail.cf'))
    with pytest.raises(BuildError):
        check(change, rejected, 'sendmail', str(tmp_path_factory.mktemp('work')))
    assert snapshot(etc) == before


def test_shortened_candidate_name_is_replaced():
    """sendmail shortens long paths with '...'; the message still names the target."""
    def runner(argv, data=None, cwd=None):
        return 70, '', '/var/tmp/ansible-tmp-1...9/.sendmail.cf.ab12.tmp: line 3: unknown configuration line "x"\n'
    with pytest.raises(BuildError, match=r'\(exit 70: /etc/mail/sendmail\.cf: line 3: unknown configuration line "x"\)'):
        validate_cf('/var/tmp/ansible-tmp-123456789/.sendmail.cf.ab12.tmp', '/etc/mail/sendmail.cf', runner)


def test_programs_that_cannot_run(etc):
    before = snapshot(etc)
    with pytest.raises(BuildError, match='Could not run m4 to build .*: No such file or directory; install m4'):
        rebuild(etc, Runner(error=FileNotFoundError(2, 'No such file or directory')), mc_new='x')
    assert snapshot(etc) == before


def test_a_failing_mc_write_or_rename_puts_the_mc_back(etc, monkeypatch):
    mc_text = (etc / 'sendmail.mc').read_text()
    change = rebuild(etc, Runner(), mc_new=mc_text + 'dnl more\n', options={'RunAsUser': 'smmta'}, source='cf')
    before = snapshot(etc)

    def broken_rename(source, target):
        raise OSError(28, 'No space left on device')

    monkeypatch.setattr(os, 'rename', broken_rename)
    with pytest.raises(OSError):
        commit(change, Runner(), 'sendmail', write)
    monkeypatch.undo()
    assert snapshot(etc) == before


def test_check_runs_in_a_private_directory(etc, tmp_path_factory):
    work = tmp_path_factory.mktemp('work')
    before = snapshot(etc)
    runner = Runner()
    change = rebuild(etc, Runner(), options={'RunAsUser': 'smmta'}, source='cf')
    check(change, runner, 'sendmail', str(work))
    assert os.path.dirname(runner.candidates[0]['path']) == str(work)
    check(change, runner, 'sendmail', str(work), text='V10\nO LogLevel=9\n')
    assert runner.candidates[1]['text'] == 'V10\nO LogLevel=9\n'
    assert snapshot(etc) == before
    assert os.listdir(work) == []


def test_a_linked_mc_is_refused(etc, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp('real')
    os.rename(str(etc / 'sendmail.mc'), str(elsewhere / 'real.mc'))
    os.symlink(str(elsewhere / 'real.mc'), str(etc / 'sendmail.mc'))
    with pytest.raises(BuildError, match='is a symbolic link'):
        read_text(str(etc / 'sendmail.mc'))


def test_option_changes():
    old = fixture('bookworm', 'sendmail.cf')
    new = old.replace('O DontBlameSendmail=', 'O DontBlameSendmail=safe\n#O Old=') + 'O RunAsUser=smmta:smmsp\n'
    changes = option_changes(old, new)
    assert changes['RunAsUser'] == {'before': [], 'after': ['smmta:smmsp']}
    assert changes['DontBlameSendmail']['after'] == ['safe']
    assert set(changes) == {'RunAsUser', 'DontBlameSendmail'}
    assert option_changes(old, old) == {}
    assert option_changes(None, 'O LogLevel=9\n') == {'LogLevel': {'before': [], 'after': ['9']}}


def test_a_failing_backup_of_the_cf_changes_nothing(etc):
    """The copy of the old .cf is made before the .mc is written: when it fails, both stay as they were."""
    mc_text = (etc / 'sendmail.mc').read_text()
    change = rebuild(etc, Runner(), mc_new=mc_text + 'dnl more\n', options={'RunAsUser': 'smmta'}, source='cf')
    before = snapshot(etc)

    def broken_backup(path):
        raise Exception('Could not make backup of %s' % path)  # what AnsibleModule.backup_local raises

    with pytest.raises(Exception, match='Could not make backup'):
        commit(change, Runner(), 'sendmail', write, backup=broken_backup)
    assert snapshot(etc) == before


def _me():
    entry = pwd.getpwuid(os.geteuid())
    return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name


def test_a_queue_the_plan_hands_over_is_read_from_a_stand_in_as_it_will_be():
    """A new RunAsUser is validated with the queue as the handover leaves it, not as it is before."""
    owner, group = _me()
    text = 'O QueueDirectory=/var/spool/mqueue\nO RunAsUser=smmta:smmsp\n'
    standin, parent = queue_stand_in(text, {'/var/spool/mqueue': {'owner': owner, 'group': group, 'mode': '0750'}})
    try:
        directory = os.path.join(parent, 'q')
        assert standin == 'O QueueDirectory=%s\nO RunAsUser=smmta:smmsp\n' % directory
        assert os.stat(parent).st_mode & 0o7777 == 0o711
        found = os.stat(directory)
        assert (found.st_uid, found.st_mode & 0o7777) == (os.geteuid(), 0o750)
    finally:
        discard_stand_in(parent)
    assert not os.path.exists(parent)


@pytest.mark.parametrize('queue', ['/var/spool/other', '/var/spool/mqueue/q*'])
def test_a_queue_the_plan_leaves_alone_is_read_where_it_is(queue):
    owner, group = _me()
    planned = {'/var/spool/mqueue': {'owner': owner, 'group': group, 'mode': '0700'}}
    assert queue_stand_in('O QueueDirectory=%s\n' % queue, planned) == (None, None)
