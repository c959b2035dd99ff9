# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Comparing an installed .cf with its .mc build, and editing one option in place, on Debian's real files."""

from __future__ import annotations

import os

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import parse_cf
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import (
    CfEditError, agrees, compare, option_values, set_mailer, set_option, significant_lines,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def fixture(release, name):
    with open(os.path.join(FIXTURES, release, name), encoding='utf-8') as handle:
        return handle.read()


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_comments_build_stamps_and_the_mc_copy_do_not_count(release):
    installed = fixture(release, 'sendmail.cf')
    built = installed.split('### /etc/mail/sendmail.mc ###\n')[0].replace('##### built by', '##### built on another day by')
    assert agrees(compare(installed, built))
    assert all(not text.startswith('#') and text for _n, text in significant_lines(installed))


def test_a_hand_edit_is_a_line_only_in_the_installed_file():
    mc_build = fixture('bookworm', 'sendmail.cf')
    edited = mc_build.replace('O QueueDirectory=', '# site limits\nO MaxMessageSize=5000000\nO QueueDirectory=', 1)
    difference = compare(edited, mc_build)
    number = edited.splitlines().index('O MaxMessageSize=5000000') + 1
    assert difference == {'only_installed': [{'line': number, 'text': 'O MaxMessageSize=5000000'}], 'only_built': []}
    # the other way round: a .mc whose build has a line the installed file lacks
    assert compare(installed=mc_build, built=edited)['only_built'] == [{'line': number, 'text': 'O MaxMessageSize=5000000'}]
    assert not agrees(difference)


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_set_option_replaces_the_line_m4_leaves_for_an_unset_option(release):
    """Debian's .cf says '#O RunAsUser=sendmail': the new line takes its place, as a rebuild would put it."""
    text = fixture(release, 'sendmail.cf')
    assert '#O RunAsUser=sendmail\n' in text
    edited = set_option(text, 'RunAsUser', 'smmta:smmsp')
    assert edited == text.replace('#O RunAsUser=sendmail\n', 'O RunAsUser=smmta:smmsp\n', 1)
    assert parse_cf(edited)['options']['RunAsUser'] == 'smmta:smmsp'
    assert set_option(edited, 'RunAsUser', 'smmta:smmsp') == edited


def test_set_option_changes_the_active_line_in_place_and_drops_later_ones():
    text = 'V10\nO LogLevel=9\nO DontBlameSendmail=AssumeSafeChown\nO X=1\nO DontBlameSendmail=TrustStickyBit\n'
    edited = set_option(text, 'dontblamesendmail', 'safe')
    assert edited == 'V10\nO LogLevel=9\nO DontBlameSendmail=safe\nO X=1\n'
    assert option_values(edited, 'DontBlameSendmail') == ['safe']


def test_set_option_on_a_short_option_line_and_without_any_place():
    assert set_option('V10\nOL9\n', 'LogLevel', '12') == 'V10\nO LogLevel=12\n'
    assert set_option('V10\nO A=1\nS0\n', 'RunAsUser', 'smmta') == 'V10\nO A=1\nO RunAsUser=smmta\nS0\n'
    assert set_option('V10', 'RunAsUser', 'smmta') == 'V10\nO RunAsUser=smmta\n'
    assert set_option('V10\r\nO A=1\r\n', 'B', '2') == 'V10\r\nO A=1\r\nO B=2\r\n'


def test_set_option_keeps_continuation_lines_of_other_lines():
    text = 'V10\nO A=1\nR$* foo\n\tbar\nO B=2\n'
    assert set_option(text, 'B', '3') == 'V10\nO A=1\nR$* foo\n\tbar\nO B=3\n'


def test_a_value_of_two_lines_is_refused():
    with pytest.raises(CfEditError, match='must be one line'):
        set_option('V10\n', 'RunAsUser', 'smmta\nO Evil=1')


def test_set_mailer_changes_only_the_path_and_argv_of_that_mailer():
    text = ('V10/Berkeley\nMlocal,\t\tP=/usr/lib/sm.bin/mail.local, F=lsDFMAw5:/|@qPSXfmnz9, S=EnvFromSMTP/HdrFromL,\n'
            '\t\tA=mail.local -l\n'
            'Mprog,\t\tP=/bin/sh, F=lsDFMoqeu9, S=EnvFromL/HdrFromL, R=EnvToL/HdrToL, D=$z:/,\n'
            '\t\tT=X-Unix/X-Unix/X-Unix,\n\t\tA=sh -c $u\nO LogLevel=9\n')
    new = set_mailer(text, 'prog', '/usr/libexec/sendmail/smrsh', 'smrsh -c $u')
    assert new == text.replace('P=/bin/sh', 'P=/usr/libexec/sendmail/smrsh').replace('A=sh -c $u', 'A=smrsh -c $u')
    mailers = parse_cf(new)['mailers']
    assert (mailers['prog']['path'], mailers['prog']['argv'], mailers['prog']['flags']) == (
        '/usr/libexec/sendmail/smrsh', 'smrsh -c $u', 'lsDFMoqeu9')
    assert mailers['local'] == parse_cf(text)['mailers']['local']
    assert set_mailer(new, 'prog', '/usr/libexec/sendmail/smrsh', 'smrsh -c $u') == new
    with pytest.raises(CfEditError):
        set_mailer(text, 'prog', '/bin/x, F=x', 'smrsh -c $u')
