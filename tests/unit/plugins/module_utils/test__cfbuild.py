# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._cfbuild import (
    BuildError, build_cf, cf_signature, option_changes, render_cf, source_trailer, validate_cf,
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


def test_build_installs_after_sendmail_accepts(etc):
    os.chmod(etc / 'sendmail.cf', 0o640)
    runner = Runner()
    backups = []

    def backup(path):
        backups.append(path)
        shutil.copy(path, path + '.bak')
        return path + '.bak'

    old = (etc / 'sendmail.cf').read_text()
    result = build_cf((etc / 'sendmail.mc').read_text(), str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), runner,
                      sendmail='/usr/sbin/sendmail', backup=backup)
    assert result['installed'] is True
    assert result['backup_file'] == str(etc / 'sendmail.cf.bak')
    assert (etc / 'sendmail.cf.bak').read_text() == old
    assert (etc / 'sendmail.cf').read_text() == result['text']
    assert os.stat(etc / 'sendmail.cf').st_mode & 0o7777 == 0o640
    # sendmail read a candidate in the same directory, already with the final mode
    (checked,) = runner.candidates
    assert os.path.dirname(checked['path']) == str(etc)
    assert checked['mode'] == 0o640
    assert runner.calls[1]['argv'] == ['/usr/sbin/sendmail', '-C', checked['path'], '-bv', 'root']
    assert sorted(os.listdir(etc)) == ['sendmail.cf', 'sendmail.cf.bak', 'sendmail.mc']


def test_new_cf_is_0644(etc):
    os.unlink(etc / 'sendmail.cf')
    result = build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), Runner(), backup=lambda path: pytest.fail('no backup'))
    assert result['backup_file'] is None
    assert os.stat(etc / 'sendmail.cf').st_mode & 0o7777 == 0o644


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
        build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), runner)
    assert snapshot(etc) == before
    assert len(runner.calls) == 1


def test_sendmail_rejection_changes_nothing(etc):
    before = snapshot(etc)
    runner = Runner(sendmail=(70, '', '/etc/mail/.sendmail.cf.x.tmp: line 490: readcf: option RunAsUser: unknown user nosuch\n'))

    def rejected(argv, data=None, cwd=None):
        rc, out, err = runner(argv, data, cwd)
        return rc, out, err.replace('/etc/mail/.sendmail.cf.x.tmp', argv[2]) if len(argv) > 2 else err

    with pytest.raises(BuildError) as caught:
        build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), rejected, before_install=lambda: pytest.fail('not now'))
    assert str(caught.value) == (
        'sendmail rejected the configuration built for %s (exit 70: %s: line 490: readcf: option RunAsUser: unknown user nosuch); '
        'fix the .mc, nothing was changed.' % (etc / 'sendmail.cf', etc / 'sendmail.cf'))
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
        build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), Runner(error=FileNotFoundError(2, 'No such file or directory')))
    assert snapshot(etc) == before


def test_failing_before_install_changes_nothing(etc):
    before = snapshot(etc)

    def fail():
        raise OSError(28, 'No space left on device')

    with pytest.raises(OSError):
        build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), Runner(), before_install=fail)
    assert snapshot(etc) == before


def test_check_run_in_a_private_directory(etc, tmp_path_factory):
    work = tmp_path_factory.mktemp('work')
    before = snapshot(etc)
    runner = Runner()
    result = build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), runner, install=False, workdir=str(work))
    assert result['installed'] is False
    assert os.path.dirname(runner.candidates[0]['path']) == str(work)
    assert snapshot(etc) == before
    assert os.listdir(work) == []
    with pytest.raises(BuildError, match='must be written in its own directory'):
        build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), runner, install=True, workdir=str(work))


def test_rendered_text_is_used_as_given(etc):
    runner = Runner()
    text = M4_OUTPUT + 'O RunAsUser=smmta:smmsp\n'
    build_cf('x', str(etc / 'sendmail.mc'), str(etc / 'sendmail.cf'), runner, rendered=text)
    assert [call['argv'][0] for call in runner.calls] == ['/usr/sbin/sendmail']
    assert (etc / 'sendmail.cf').read_text() == text


def test_option_changes_and_signature():
    old = fixture('bookworm', 'sendmail.cf')
    new = old.replace('O DontBlameSendmail=', 'O DontBlameSendmail=safe\n#O Old=') + 'O RunAsUser=smmta:smmsp\n'
    changes = option_changes(old, new)
    assert changes['RunAsUser'] == {'before': [], 'after': ['smmta:smmsp']}
    assert changes['DontBlameSendmail']['after'] == ['safe']
    assert set(changes) == {'RunAsUser', 'DontBlameSendmail'}
    assert option_changes(old, old) == {}
    assert option_changes(None, 'O LogLevel=9\n') == {'LogLevel': {'before': [], 'after': ['9']}}
    # comments (the build date, the .mc copy) do not count; options and classes do
    assert cf_signature(old) == cf_signature(old.replace('##### built by root@vm', '##### built by root@other'))
    assert cf_signature(old) != cf_signature(old + 'Cw extra.example\n')
