# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import os

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import (
    fold_lines, parse_cf, settings, split_option, word_list,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')

DONT_BLAME_DEBIAN = [
    'AssumeSafeChown', 'ForwardFileInGroupWritableDirPath', 'GroupWritableForwardFileSafe',
    'GroupWritableIncludeFileSafe', 'IncludeFileInGroupWritableDirPath', 'DontWarnForwardFileInUnsafeDirPath',
    'TrustStickyBit', 'NonRootSafeAddr', 'GroupWritableIncludeFile', 'GroupReadableDefaultAuthInfoFile',
]


def fixture_settings(release, name):
    with open(os.path.join(FIXTURES, release, name), encoding='utf-8') as handle:
        return settings(parse_cf(handle.read()))


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_debian_mta(release):
    mta = fixture_settings(release, 'sendmail.cf')
    assert mta['RunAsUser'] is None
    assert mta['TrustedUser'] == 'smmta'
    assert mta['DefaultUser'] == 'mail:mail'
    assert mta['DontBlameSendmail'] == DONT_BLAME_DEBIAN
    assert 'goaway' not in mta['PrivacyOptions']
    assert mta['PrivacyOptions'] == [
        'needmailhelo', 'needexpnhelo', 'needvrfyhelo', 'restrictqrun', 'restrictexpand', 'nobodyreturn', 'authwarnings',
    ]
    assert mta['QueueDirectory'] == '/var/spool/mqueue'
    assert mta['LogLevel'] == '9'
    assert mta['QueueFileMode'] == '0640'
    assert mta['SafeFileEnvironment'] == '/'
    assert mta['HelpFile'] == '/etc/mail/helpfile'
    assert mta['ForwardPath'] == '$z/.forward.$w:$z/.forward'
    assert '$v' in mta['SmtpGreetingMessage']
    assert mta['AliasFile'] == ['/etc/mail/aliases']
    assert mta['DaemonPortOptions'] == [
        {'Family': 'inet', 'Name': 'MTA-v4', 'Port': 'smtp', 'Addr': '127.0.0.1'},
        {'Family': 'inet', 'Name': 'MSP-v4', 'Port': 'submission', 'M': 'Ea', 'Addr': '127.0.0.1'},
    ]
    assert mta['trusted_users'] == ['root', 'daemon', 'uucp']
    assert mta['version_level'] == '10/Berkeley'


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_debian_msp(release):
    msp = fixture_settings(release, 'submit.cf')
    assert msp['RunAsUser'] == 'smmsp'
    assert msp['TrustedUser'] == 'smmsp'
    assert msp['QueueDirectory'] == '/var/spool/mqueue-client'
    assert msp['QueueFileMode'] == '0660'
    assert msp['PrivacyOptions'] == ['goaway', 'noetrn', 'restrictqrun']
    assert msp['DontBlameSendmail'] is None
    assert msp['UseMSP'] == 'True'
    # 'O ForwardPath' with no value sets it empty.
    assert msp['ForwardPath'] == ''
    assert msp['PidFile'] == '/var/run/sendmail/msp/sendmail.pid'


def test_line_numbers_and_last_wins():
    with open(os.path.join(FIXTURES, 'bookworm', 'sendmail.cf'), encoding='utf-8') as handle:
        parsed = parse_cf(handle.read())
    assert parsed['lines']['TrustedUser'] == 510
    assert parsed['lines']['DontBlameSendmail'] == 84
    assert parsed['class_files']['w'].startswith('/etc/mail/local-host-names')


def test_continuation_lines_join_with_their_newline():
    text = 'O SmtpGreetingMessage=$j Sendmail\n\tready\n# comment\n  still comment\nO LogLevel=9\n'
    assert fold_lines(text) == [
        (1, 'O SmtpGreetingMessage=$j Sendmail\n\tready'),
        (3, '# comment\n  still comment'),
        (5, 'O LogLevel=9'),
    ]
    parsed = parse_cf(text)
    assert parsed['options'] == {'SmtpGreetingMessage': '$j Sendmail\n\tready', 'LogLevel': '9'}
    assert parsed['lines']['LogLevel'] == 5


def test_comments_are_skipped():
    parsed = parse_cf('#O RunAsUser=nobody\n# O TrustedUser=bin\nO TrustedUser=smmta\n')
    assert parsed['options'] == {'TrustedUser': 'smmta'}


@pytest.mark.parametrize('line, expected', [
    ('Ou8', ('DefaultUser', '8')),
    ('OL9', ('LogLevel', '9')),
    ('OQ/var/spool/mqueue', ('QueueDirectory', '/var/spool/mqueue')),
    ('Opgoaway', ('PrivacyOptions', 'goaway')),
    ('Og12', ('g', '12')),  # no long name in sendmail's table
    ('O privacyoptions = goaway', ('PrivacyOptions', 'goaway')),
    ('O Timeout.queuereturn=5d', ('Timeout.queuereturn', '5d')),
    ('O ForwardPath', ('ForwardPath', '')),
    ('O SomeFutureOption=1', ('SomeFutureOption', '1')),
    ('O ', None),
    ('O', None),
    ('Dj$w', None),
])
def test_split_option(line, expected):
    assert split_option(line) == expected


def test_short_and_long_forms_are_one_option():
    parsed = parse_cf('OL9\nO LogLevel=12\n')
    assert parsed['options'] == {'LogLevel': '12'}
    assert parsed['occurrences']['LogLevel'] == ['9', '12']


def test_word_lists_add_up_and_safe_resets():
    assert word_list(['goaway', 'restrictmailq restrictqrun']) == ['goaway', 'restrictmailq', 'restrictqrun']
    assert word_list(['GroupWritableDirPathSafe', 'safe,TrustStickyBit'], 'safe') == ['TrustStickyBit']
    assert word_list(['safe'], 'safe') == []
    assert word_list([]) is None


def test_repeated_and_class_lines():
    text = 'O DaemonPortOptions=Port=smtp,Addr=127.0.0.1, Name=MTA\nO DaemonPortOptions=Port=587, Name=MSA, M=E\n' \
           'Ct root\nT daemon\nC{Other} a b\nFt/etc/mail/trusted-users\n'
    found = settings(parse_cf(text))
    assert found['DaemonPortOptions'] == [
        {'Port': 'smtp', 'Addr': '127.0.0.1', 'Name': 'MTA'},
        {'Port': '587', 'Name': 'MSA', 'M': 'E'},
    ]
    assert found['trusted_users'] == ['root', 'daemon']
    assert found['trusted_users_file'] == '/etc/mail/trusted-users'
    assert found['RunAsUser'] is None


def test_empty_text():
    parsed = parse_cf('')
    assert parsed['options'] == {}
    assert parsed['version_level'] is None
