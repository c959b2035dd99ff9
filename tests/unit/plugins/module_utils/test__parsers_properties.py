# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based tests: the .cf, .mc and -d0 parsers never crash, and the editors round-trip."""

from __future__ import annotations

import os
import tempfile

from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from ansible_collections.mailsec.sendmail.plugins.module_utils._read_binary import drop_method, parse_d0
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import (
    alias_files, canonical_name, fold_lines, parse_cf, parse_map, settings as cf_settings, split_option, word_list,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import (
    CfEditError, agrees, compare, option_values, set_option, significant_lines,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_mc import (
    McError, check_value, parse_mc, remove_define, remove_feature, scan, set_define, set_feature,
)

# Even without a database, hypothesis caches data under .hypothesis in the working directory,
# which is the collection tree under ansible-test (and a collection build would ship it).
os.environ.setdefault('HYPOTHESIS_STORAGE_DIRECTORY', os.path.join(tempfile.gettempdir(), 'mailsec-sendmail-hypothesis'))

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
RELEASES = ('bookworm', 'trixie')

# No example database, so nothing is written into the tree; no deadline, so a loaded
# CI runner cannot turn a slow 2000-line .cf into a failure; no explain phase, which
# takes a minute on a failing .cf property. The example counts below add up to 10,100.
BASE = settings(database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink])


def _read(path):
    with open(os.path.join(FIXTURES, path), encoding='utf-8') as handle:
        return handle.read()


# Tests draw fixture names, not texts, so that a failure prints a short reproducer.
CF = {path: _read(path) for path in ('%s/%s' % (r, n) for r in RELEASES for n in ('sendmail.cf', 'submit.cf'))}
MC = {path: _read(path) for path in ('%s/%s' % (r, n) for r in RELEASES for n in ('sendmail.mc', 'submit.mc'))}
D0 = {path: _read(path) for path in ('%s/d0.10.txt' % r for r in RELEASES)}


def _lines(texts):
    return sorted({line for text in texts for line in text.splitlines()})


# Characters that steer the parsers, and ones that str.splitlines() or str.strip() treat specially.
SPECIAL = ' \t\r\n=,:#()`\'{}$-./\\\x00\x0b\x0c\x1c\x85\xa0\u2028\u3000é€\U0001f600'
chars = st.one_of(st.sampled_from(SPECIAL), st.characters())
free_text = st.text(chars, max_size=10)
separators = st.sampled_from(['\n', '\n', '\n', '\r\n', '\r', '\n\t', '\n ', '\n\n', ''])


def lines_of(line):
    """Texts of ``line`` draws joined by assorted line ends and continuation starts."""
    return st.lists(st.tuples(line, separators), max_size=8).map(lambda pairs: ''.join(a + b for a, b in pairs))


def prefixed(prefixes, rest=free_text):
    return st.builds(lambda prefix, tail: prefix + tail, st.sampled_from(prefixes), rest)


def insert_lines(text, insertions, name):
    """``text`` with lines inserted; ``near`` puts one right after a line that mentions ``name``, or the last O line."""
    lines = text.splitlines(True)
    for where, near, line in insertions:
        index = where % (len(lines) + 1)
        if near:
            anchors = [i for i, old in enumerate(lines) if name.lower() in old.lower()]
            anchors += [i for i, old in enumerate(lines) if old.startswith('O')][-1:]
            if anchors:
                index = anchors[where % len(anchors)] + 1
        lines.insert(index, line + '\n')
    return ''.join(lines)


def insertions(line):
    return st.lists(st.tuples(st.integers(min_value=0, max_value=10**6), st.booleans(), line), max_size=4)


# --- .cf ---------------------------------------------------------------------

CF_PREFIXES = (
    'O ', 'O', 'O\t', 'O RunAsUser=', 'O DontBlameSendmail=', 'O PrivacyOptions=', 'O DaemonPortOptions=',
    'O AliasFile=', 'O Timeout.', 'OL', 'Op', 'OA', 'Ou', '#O ', '#O RunAsUser=', '#', 'K', 'Kaccess hash -o ',
    'Kx text ', 'Kx btree /etc/mail/x.db', 'C', 'Cw', 'C{t}', 'C{', 'T', 'F', 'F{w}', 'Fw', 'F{', 'V', 'V10/',
    'D', 'R', 'S', 'M', 'H', 'P', '\t', ' ',
)
cf_line = st.one_of(st.sampled_from(_lines(CF.values())), prefixed(CF_PREFIXES), free_text)
cf_text = st.one_of(lines_of(cf_line), st.text(chars, max_size=60))
# A hand edit: often a continuation line, or a whitespace-only one, which folds like one.
cf_edit_line = st.one_of(cf_line, prefixed(('\t', ' '), cf_line), st.text(st.sampled_from(' \t'), max_size=3))

# Options the hardening edits, and ones the fixtures set in other forms (repeated, commented,
# dotted, short, not in KNOWN_LONG), in the spellings an inventory might use.
CF_OPTIONS = (
    'RunAsUser', 'DontBlameSendmail', 'QueueFileMode', 'SafeFileEnvironment', 'MaxMessageSize', 'PrivacyOptions',
    'TrustedUser', 'LogLevel', 'DaemonPortOptions', 'AliasFile', 'HelpFile', 'ForwardPath', 'TempFileMode',
    'SmtpGreetingMessage', 'UseMSP', 'MaxDaemonChildren', 'ConnectionRateThrottle', 'Timeout.queuereturn',
    'MaxRunnersPerQueue', 'HostStatusDirectory', 'ClientPortOptions', 'StatusFile', 'QueueDirectory', 'DefaultUser',
)
cf_option = st.sampled_from(CF_OPTIONS).flatmap(lambda name: st.sampled_from((name, name.lower(), name.upper())))
CF_WORDS = ['root', '8', ':', '0640', '=', ',', ' ', '\t', 'needmailhelo', 'goaway', '$z/.forward', 'Family=inet',
            'Addr=127.0.0.1', '/', '#', 'é', '\xa0']
# Where str.splitlines(), which the parsers use, ends a line.
LINE_BREAKS = '\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029'


def _cf_values(excluded):
    return st.one_of(st.text(st.characters(exclude_characters=excluded), max_size=30),
                     st.lists(st.sampled_from(CF_WORDS), max_size=6).map(''.join))


# One line as set_option's contract has it: no '\n', no '\r'.
cf_value = _cf_values('\n\r')
# One line for every reader: the hand-edit property is about where lines go, not about values.
cf_one_line_value = _cf_values(LINE_BREAKS)


@settings(BASE, max_examples=2200)
@given(cf_text)
def test_parse_cf_never_raises(text):
    parsed = parse_cf(text)
    found = cf_settings(parsed)
    alias_files(found['AliasFile'])
    word_list(parsed['occurrences'].get('PrivacyOptions', []), 'safe')
    for _number, line in fold_lines(text):
        split_option(line)
        parse_map(line)
    assert found['version_level'] == parsed['version_level']


@settings(BASE, max_examples=1000)
@given(cf_text, cf_text)
def test_compare_never_raises_and_agrees_with_itself(first, second):
    significant_lines(first)
    compare(first, second)
    assert agrees(compare(first, first))


@settings(BASE, max_examples=800)
@given(cf_text, cf_option, cf_value)
def test_cf_editor_never_raises(text, name, value):
    option_values(text, name)
    try:
        set_option(text, name, value)
    except CfEditError:
        pass


def check_set_option(text, name, value):
    """The value reads back, set_option is idempotent, and only lines of that option differ."""
    try:
        new = set_option(text, name, value)
    except CfEditError:
        # Refusing a value is fine only where the parsers would split it into lines.
        assert any(char in LINE_BREAKS for char in value)
        return
    key = canonical_name(name)
    assert parse_cf(new)['options'][key] == value.strip()
    assert option_values(new, name) == [value.strip()]
    assert set_option(new, name, value) == new
    difference = compare(text, new)
    for entry in difference['only_installed'] + difference['only_built']:
        option = split_option(entry['text'])
        assert option is not None and option[0].lower() == key.lower(), entry


@settings(BASE, max_examples=200)
@given(st.sampled_from(sorted(CF)), cf_option, cf_value)
# U+001C is no line end for set_option, but one for str.splitlines() in fold_lines.
@example(fixture='bookworm/sendmail.cf', name='RunAsUser', value='\x1c0')
def test_set_option_round_trip(fixture, name, value):
    check_set_option(CF[fixture], name, value)


@settings(BASE, max_examples=200)
@given(st.sampled_from(sorted(CF)), cf_option, insertions(cf_edit_line), cf_one_line_value)
# A whitespace-only line inside a folded line: fold_lines keeps folding after it, set_option does not.
@example(fixture='bookworm/sendmail.cf', name='RunAsUser', edits=[(0, True, '\tx'), (0, True, '\t')], value='')
def test_set_option_round_trip_with_hand_edits(fixture, name, edits, value):
    check_set_option(insert_lines(CF[fixture], edits, name), name, value)


# --- -d0.10 ------------------------------------------------------------------

D0_PREFIXES = (
    'Version ', 'Version', ' Compiled with: ', '    OS Defines: ', 'OS Defines:', '\t\t', '     Conf file:\t',
    '      Pid file:\t', 'Kernel symbols:\t', '\ta.k.a.: ', '============ ', '> ',
)
D0_WORDS = (
    'USESETEUID', 'HASSETREUID', 'HASFCHOWN', '(default for MTA)', '(default for MSP)', '(selected)', '(default)',
    '/etc/mail/sendmail.cf', ' ', '\t', ':',
)
d0_line = st.one_of(
    st.sampled_from(_lines(D0.values())),
    prefixed(D0_PREFIXES, st.tuples(st.lists(st.sampled_from(D0_WORDS), max_size=4), free_text).map(
        lambda parts: ' '.join(parts[0]) + parts[1])),
    free_text,
)
d0_text = st.one_of(lines_of(d0_line), st.text(chars, max_size=60))


@settings(BASE, max_examples=1500)
@given(d0_text)
def test_parse_d0_never_raises(text):
    parsed = parse_d0(text)
    assert drop_method(parsed['os_defines']) in ('seteuid', 'setreuid', 'setuid')
    assert set(parsed['config_files']) <= {'mta', 'msp', 'selected'}
    assert all(word and not any(char.isspace() for char in word) for word in parsed['os_defines'] + parsed['compiled_with'])


# --- .mc ---------------------------------------------------------------------

MC_TOKENS = (
    'define(', 'undefine(', 'FEATURE(', 'MAILER(', 'MAILER_DEFINITIONS', 'include(', 'changecom(', 'changecom(`#\')',
    "`/usr/share/sendmail/cf/m4/cf.m4'", 'cf.m4', 'dnl', 'dnl ', 'dnl\n', 'divert(-1)', '`', "'", '(', ')', ',', '#',
    ' ', '\t', '\n', '\r', '\r\n', 'conf', '_', 'x', '`x\'', "`confPRIVACY_FLAGS'", 'é', '\u2028', '$',
)
mc_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(MC_TOKENS), st.sampled_from(_lines(MC.values())), free_text), max_size=12).map(''.join),
    st.text(chars, max_size=60),
)


@settings(BASE, max_examples=2600)
@given(mc_text)
def test_mc_scanner_raises_only_mc_error(text):
    for function in (scan, parse_mc):
        try:
            function(text)
        except McError:
            pass


# Text without quotes, parentheses, '#' or a line end ('\r' is one for check_value).
plain = st.text(st.one_of(st.sampled_from(' \t,$=.:/é\u2028'), st.characters(exclude_characters='\n\r`\'()#')), max_size=10)
# Values check_value accepts: one line, m4 quotes nested and balanced.
mc_value = st.recursive(plain, lambda inner: st.lists(st.one_of(inner, inner.map(lambda s: '`%s\'' % s)), max_size=3)
                        .map(''.join), max_leaves=6)
m4_string = mc_value.map(lambda s: '`%s\'' % s)
define_name = st.one_of(
    st.sampled_from(('confPRIVACY_FLAGS', 'confCONNECTION_RATE_THROTTLE', '_USE_ETC_MAIL_', 'confHOST_STATUS_DIRECTORY',
                     'confSAFE_FILE_ENV', 'confCON_EXPENSIVE', 'confRUN_AS_USER', 'confDONT_BLAME_SENDMAIL', 'dnl',
                     'define', 'FEATURE', 'MAILER', 'include')),
    st.from_regex(r'\A[A-Za-z_][A-Za-z0-9_]{0,30}\Z'),
)
feature_name = st.one_of(
    st.sampled_from(('access_db', 'greet_pause', 'delay_checks', 'use_cw_file', 'msp', 'no_default_msa',
                     'conncontrol', 'masquerade_envelope', 'dnl', 'define', 'FEATURE')),
    st.from_regex(r'\A[A-Za-z_][A-Za-z0-9_]{0,30}\Z'),
)
# Blanks around arguments: m4 drops those before an argument, keeps those after it.
m4_call = st.builds(
    lambda macro, comma, args, close, tail: '%s(%s%s)%s' % (macro, comma.join(args), close, tail),
    st.sampled_from(('define', 'undefine', 'FEATURE', 'MAILER', 'include', 'DAEMON_OPTIONS', 'VERSIONID')),
    st.sampled_from((', ', ',', ' , ', ',\t')),
    st.lists(st.one_of(m4_string, st.one_of(define_name, feature_name).map(lambda s: '`%s\'' % s), plain),
             min_size=1, max_size=3),
    st.sampled_from(('', '', ' ')),
    st.sampled_from(('', 'dnl', 'dnl # trailing comment', ' ')),
)
# A line that unbalances nothing wherever it goes: a dnl comment, plain words, closed quotes
# and calls. No bare '#': a comment before cf.m4 is included, plain text after.
safe_line = st.one_of(
    prefixed(('dnl ', 'dnl\t', ' dnl '), st.text(st.characters(exclude_characters='\n'), max_size=20)),
    st.sampled_from([line for line in _lines(MC.values()) if line.startswith('dnl')]),
    plain, m4_string, m4_call,
)


@settings(BASE, max_examples=600)
@given(st.sampled_from(sorted(MC)), define_name, insertions(safe_line))
def test_mc_fixture_with_safe_lines_parses(fixture, name, lines):
    text = insert_lines(MC[fixture], lines, name)
    scan(text)
    parse_mc(text)


def _names(text, macros):
    return {call['args'][0] for call in scan(text) if call['macro'] in macros and call['args']}


def _without(mapping, name):
    return {key: value for key, value in mapping.items() if key != name}


def _kept_around(text, new, macro, name):
    """With one call of ``name``, the edit stays between its name and its closing parenthesis."""
    calls = [call for call in scan(text) if call['args'][:1] == [name] and call['macro'] in (macro, 'undefine')]
    if len(calls) == 1 and calls[0]['macro'] == macro and calls[0]['close'] is not None:
        assert new[:calls[0]['start']] == text[:calls[0]['start']]
        assert new[calls[0]['start']:].endswith(text[calls[0]['close']:])


@settings(BASE, max_examples=500)
@given(st.sampled_from(sorted(MC)), insertions(safe_line), define_name, mc_value)
# A line end after the 'dnl' inside the call belongs to the value for m4, not to the span set_define replaces.
@example(fixture='bookworm/sendmail.mc', lines=[(0, True, '')], name='confPRIVACY_FLAGS', value='')
def test_set_define_round_trip(fixture, lines, name, value):
    text = insert_lines(MC[fixture], lines, name)
    check_value(name, value)
    before = parse_mc(text)
    new = set_define(text, name, value)
    after = parse_mc(new)
    assert after['defines'][name] == value
    assert name not in after['undefined']
    assert set_define(new, name, value) == new
    _kept_around(text, new, 'define', name)
    assert _without(after['defines'], name) == _without(before['defines'], name)
    assert [item for item in after['undefined'] if item != name] == [item for item in before['undefined'] if item != name]
    assert (after['features'], after['mailers'], after['includes']) == (before['features'], before['mailers'], before['includes'])
    removed = remove_define(new, name)
    gone = parse_mc(removed)
    assert name not in gone['defines']
    assert _without(gone['defines'], name) == _without(before['defines'], name)
    if name not in _names(text, ('define', 'undefine')):
        assert removed == text


@settings(BASE, max_examples=500)
@given(st.sampled_from(sorted(MC)), insertions(safe_line), feature_name, st.lists(mc_value, max_size=3))
def test_set_feature_round_trip(fixture, lines, name, args):
    text = insert_lines(MC[fixture], lines, name)
    before = parse_mc(text)
    new = set_feature(text, name, args)
    after = parse_mc(new)
    assert after['features'][name] == args
    assert set_feature(new, name, args) == new
    _kept_around(text, new, 'FEATURE', name)
    assert _without(after['features'], name) == _without(before['features'], name)
    assert (after['defines'], after['undefined'], after['mailers'], after['includes']) == (
        before['defines'], before['undefined'], before['mailers'], before['includes'])
    removed = remove_feature(new, name)
    gone = parse_mc(removed)
    assert name not in gone['features']
    assert _without(gone['features'], name) == _without(before['features'], name)
    if name not in _names(text, ('FEATURE',)):
        assert removed == text
