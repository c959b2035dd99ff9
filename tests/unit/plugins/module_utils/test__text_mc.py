# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import difflib
import os

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_mc import (
    McError, insertion_point, parse_mc, remove_define, remove_feature, scan, set_define, set_feature,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
RELEASES = ['bookworm', 'trixie']
PRIVACY = 'needmailhelo,needexpnhelo,needvrfyhelo,restrictqrun,restrictexpand,nobodyreturn,authwarnings'


def fixture(release, name='sendmail.mc'):
    with open(os.path.join(FIXTURES, release, name), encoding='utf-8') as handle:
        return handle.read()


def changed_lines(before, after):
    """The -/+ lines of a unified diff, without headers."""
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm='', n=0)
            if line[:1] in '-+' and not line.startswith(('---', '+++'))]


@pytest.mark.parametrize('release', RELEASES)
def test_parse_debian_sendmail_mc(release):
    parsed = parse_mc(fixture(release))
    assert parsed['defines'] == {
        '_USE_ETC_MAIL_': '', 'confPRIVACY_FLAGS': PRIVACY, 'confCONNECTION_RATE_THROTTLE': '15',
        'confCONNECTION_RATE_WINDOW_SIZE': '10m', 'confBAD_RCPT_THROTTLE': '3',
    }
    assert parsed['undefined'] == ['confHOST_STATUS_DIRECTORY']
    assert parsed['features'] == {
        'no_default_msa': [], 'use_cw_file': [], 'access_db': ['', 'skip'], 'greet_pause': ['1000'],
        'delay_checks': ['friend', 'n'], 'conncontrol': ['nodelay', 'terminate'], 'ratecontrol': ['nodelay', 'terminate'],
    }
    assert parsed['mailers'] == ['local', 'smtp']
    assert parsed['includes'] == ['/usr/share/sendmail/cf/m4/cf.m4', '/etc/mail/m4/dialup.m4', '/etc/mail/m4/provider.m4']
    # dnl-commented lines are not active: confSAFE_FILE_ENV, confCON_EXPENSIVE, the inet6 DAEMON_OPTIONS.
    assert 'confCON_EXPENSIVE' not in parsed['defines']


@pytest.mark.parametrize('release', RELEASES)
def test_parse_debian_submit_mc(release):
    parsed = parse_mc(fixture(release, 'submit.mc'))
    assert parsed['features'] == {'msp': ['[127.0.0.1]', '25']}
    assert parsed['defines'] == {'_USE_ETC_MAIL_': ''}
    assert parsed['mailers'] == []


@pytest.mark.parametrize('release', RELEASES)
def test_new_define_goes_before_the_mailers(release):
    text = fixture(release)
    after = set_define(text, 'confRUN_AS_USER', 'smmta:smmsp')
    assert changed_lines(text, after) == ["+define(`confRUN_AS_USER', `smmta:smmsp')dnl"]
    lines = after.splitlines()
    new = lines.index("define(`confRUN_AS_USER', `smmta:smmsp')dnl")
    # after the includes, above the comment block that introduces the mailers
    assert lines[new - 1] == "include(`/etc/mail/m4/provider.m4')dnl"
    assert lines[new + 1:new + 4] == ['dnl #', 'dnl # Default Mailer setup', 'MAILER_DEFINITIONS']
    assert parse_mc(after)['defines']['confRUN_AS_USER'] == 'smmta:smmsp'


@pytest.mark.parametrize('release', RELEASES)
def test_set_define_is_idempotent(release):
    text = fixture(release)
    once = set_define(text, 'confRUN_AS_USER', 'smmta:smmsp')
    assert set_define(once, 'confRUN_AS_USER', 'smmta:smmsp') == once
    assert set_define(text, 'confCONNECTION_RATE_THROTTLE', '15') == text
    assert set_define(text, 'confPRIVACY_FLAGS', PRIVACY) == text


def test_existing_define_changes_in_place():
    text = fixture('bookworm')
    after = set_define(text, 'confCONNECTION_RATE_THROTTLE', '20')
    assert changed_lines(text, after) == [
        "-define(`confCONNECTION_RATE_THROTTLE', `15')dnl", "+define(`confCONNECTION_RATE_THROTTLE', `20')dnl",
    ]


def test_define_over_two_lines_changes_in_place():
    """Debian's confPRIVACY_FLAGS has its value on the line after a dnl."""
    text = fixture('bookworm')
    after = set_define(text, 'confPRIVACY_FLAGS', 'goaway,restrictmailq,restrictqrun')
    assert changed_lines(text, after) == ["-`%s')dnl" % PRIVACY, "+`goaway,restrictmailq,restrictqrun')dnl"]
    assert parse_mc(after)['defines']['confPRIVACY_FLAGS'] == 'goaway,restrictmailq,restrictqrun'


def test_value_with_commas_and_nested_quotes_round_trips():
    text = fixture('trixie')
    value = "$j Sendmail `ready', at $b"
    after = set_define(text, 'confSMTP_LOGIN_MSG', value)
    assert parse_mc(after)['defines']['confSMTP_LOGIN_MSG'] == value
    assert set_define(after, 'confSMTP_LOGIN_MSG', value) == after


def test_commented_out_define_stays_untouched():
    text = fixture('bookworm')
    after = set_define(text, 'confCON_EXPENSIVE', 'True')
    assert "dnl define(`confCON_EXPENSIVE',`True')dnl" in after
    assert changed_lines(text, after) == ["+define(`confCON_EXPENSIVE', `True')dnl"]
    assert remove_define(text, 'confCON_EXPENSIVE') == text
    assert remove_define(text, 'confSAFE_FILE_ENV') == text


@pytest.mark.parametrize('value', ["smmta'x", 'smmta`x', "a'b`c", 'two\nlines'])
def test_values_m4_cannot_hold_are_refused(value):
    with pytest.raises(McError):
        set_define(fixture('bookworm'), 'confRUN_AS_USER', value)


@pytest.mark.parametrize('name', ['conf RUN', '1conf', '', "conf'X"])
def test_bad_names_are_refused(name):
    with pytest.raises(McError, match='not a valid'):
        set_define('MAILER(`local\')dnl\n', name, 'x')


def test_remove_define_removes_whole_lines():
    text = fixture('bookworm')
    after = remove_define(text, 'confPRIVACY_FLAGS')
    assert changed_lines(text, after) == ["-define(`confPRIVACY_FLAGS',dnl", "-`%s')dnl" % PRIVACY]
    assert 'confPRIVACY_FLAGS' not in parse_mc(after)['defines']
    assert remove_define(after, 'confPRIVACY_FLAGS') == after


def test_set_then_remove_gives_back_the_text():
    text = fixture('trixie')
    assert remove_define(set_define(text, 'confRUN_AS_USER', 'smmta:smmsp'), 'confRUN_AS_USER') == text


def test_undefine_after_the_define_is_removed():
    text = "define(`confX', `1')dnl\nundefine(`confX')dnl\nMAILER(`local')dnl\n"
    assert set_define(text, 'confX', '1') == "define(`confX', `1')dnl\nMAILER(`local')dnl\n"


def test_undefine_before_a_new_define_is_kept():
    text = fixture('bookworm')
    after = set_define(text, 'confHOST_STATUS_DIRECTORY', '/var/lib/sendmail/host_status')
    assert "undefine(`confHOST_STATUS_DIRECTORY')dnl" in after
    assert parse_mc(after)['defines']['confHOST_STATUS_DIRECTORY'] == '/var/lib/sendmail/host_status'


def test_define_without_value_gets_one():
    text = "define(`_USE_ETC_MAIL_')dnl\n"
    assert set_define(text, '_USE_ETC_MAIL_', 'x') == "define(`_USE_ETC_MAIL_', `x')dnl\n"


def test_every_active_define_of_the_name_changes():
    text = "define(`confX', `1')dnl\ndnl define(`confX', `0')dnl\ndefine(`confX', `2')dnl\n"
    after = set_define(text, 'confX', '3')
    assert after == "define(`confX', `3')dnl\ndnl define(`confX', `0')dnl\ndefine(`confX', `3')dnl\n"
    assert remove_define(after, 'confX') == "dnl define(`confX', `0')dnl\n"


def test_without_mailers_a_define_goes_at_the_end():
    text = fixture('bookworm', 'submit.mc')
    after = set_define(text, 'confPRIVACY_FLAGS', 'goaway')
    assert after == text + "define(`confPRIVACY_FLAGS', `goaway')dnl\n"
    assert set_define('OSTYPE(`debian\')dnl', 'confX', 'y') == "OSTYPE(`debian')dnl\ndefine(`confX', `y')dnl\n"


def test_hash_comments_before_cf_m4_only():
    """sendmail's cfhead.m4 runs changecom(): '#' stops being a comment once cf.m4 is included."""
    text = ("# define(`confA', `1')\n"
            "include(`/usr/share/sendmail/cf/m4/cf.m4')dnl\n"
            "# define(`confB', `2')\n")
    assert parse_mc(text)['defines'] == {'confB': '2'}
    text = "changecom(`#')dnl\n# define(`confA', `1')\nchangecom()dnl\n# define(`confB', `2')\n"
    assert parse_mc(text)['defines'] == {'confB': '2'}


def test_quoted_text_is_not_a_call():
    text = "VERSIONID(`define(`confA', `1')')\nFEATURE(`x')dnl FEATURE(`y')\ndefine(`confB', `2')\n"
    parsed = parse_mc(text)
    assert parsed['defines'] == {'confB': '2'}
    assert parsed['features'] == {'x': []}


def test_unquoted_parentheses_and_comma_inside_quotes():
    parsed = parse_mc("define(`confA', (a, b))dnl\ndefine(`confB', `c,d')\n")
    assert parsed['defines'] == {'confA': '(a, b)', 'confB': 'c,d'}


def test_scan_positions():
    text = "dnl x\nFEATURE(`smrsh')dnl comment\nMAILER_DEFINITIONS\n"
    calls = scan(text)
    assert [(call['macro'], call['line']) for call in calls] == [('FEATURE', 2), ('MAILER_DEFINITIONS', 3)]
    assert text[calls[0]['start']:calls[0]['end']] == "FEATURE(`smrsh')dnl comment\n"
    assert insertion_point(text) == text.index('MAILER_DEFINITIONS')


@pytest.mark.parametrize('text', ["define(`confA', `1\n", "define(`confA', `1'\n", "`open"])
def test_broken_text_raises(text):
    with pytest.raises(McError):
        parse_mc(text)


def test_set_feature_new_and_existing():
    text = fixture('bookworm')
    after = set_feature(text, 'smrsh')
    assert changed_lines(text, after) == ["+FEATURE(`smrsh')dnl"]
    assert parse_mc(after)['features']['smrsh'] == []
    assert set_feature(after, 'smrsh', []) == after
    changed = set_feature(text, 'delay_checks', ['friend'])
    assert changed_lines(text, changed) == ["-FEATURE(`delay_checks', `friend', `n')dnl", "+FEATURE(`delay_checks', `friend')dnl"]
    assert set_feature(text, 'access_db', ['', 'skip']) == text
    assert set_feature(text, 'greet_pause', ['1000']) == text


def test_remove_feature_with_trailing_comment():
    text = fixture('trixie')
    after = remove_feature(text, 'greet_pause')
    assert changed_lines(text, after) == ["-FEATURE(`greet_pause', `1000')dnl 1 seconds"]
    assert remove_feature(after, 'greet_pause') == after
    assert remove_feature(text, 'masquerade_envelope') == text


def test_remove_keeps_other_text_on_the_line():
    text = "define(`confA', `1') define(`confB', `2')\n"
    assert remove_define(text, 'confB') == "define(`confA', `1') \n"


def test_feature_arguments_are_checked():
    with pytest.raises(McError, match='unbalanced'):
        set_feature('', 'msp', ["[127.0.0.1]'"])
