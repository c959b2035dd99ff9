# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controls beyond the privilege model (PrivacyOptions, greeting, HELP, aliases, LogLevel, limits, relaying):
their judgments on the Debian fixtures and the lab's legacy profile, and the plans that fix them."""

from __future__ import annotations

import copy
import os

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._aliases import (
    add, disable, entries as alias_entries, program_path, smrsh_name,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_steps import apply_entry
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import parse_cf, relay_marks
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_cfbuild import m4_errors
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import (
    BY_ID, CONTROLS, GOAWAY_WORDS, PRIVACY_FULL, expected_for, forward_path, greeting_without_version, privacy_missing,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import alias_includes, forward_files, mail_rules
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import evaluate, evaluate_control
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_kinds import alias_link_problem, diff_entries
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import (
    alias_steps, changed_ids, credit_runas_impact, empty_file_steps, failing_ids as failing_ids_of, feature_steps,
    file_steps, option_steps, smrsh_missing, smrsh_remove_steps, without_disabled,
)
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__judge import (
    TODAY, config, legacy_state, read, stock_state,
)

NEW = ['SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-LOG-01', 'SM-DOS-01', 'SM-RELAY-01']
DEBIAN_GREETING = ('$j Sendmail $v/$Z; $b; (No UCE/UBE) $?{client_addr}logging access from: '
                   '${client_name}(${client_resolve})-$_$.')


def expected_all(overrides=None):
    return {c['id']: expected_for(c, 'Debian', (overrides or {}).get(c['id'])) for c in CONTROLS}


def judge(state, control_id, override=None):
    control = BY_ID[control_id]
    return evaluate_control(control, expected_for(control, 'Debian', override), state)


def with_cf(state, text):
    state = copy.deepcopy(state)
    state['configs']['mta'] = config(state['os']['release'], 'sendmail.cf', text)
    return state


def set_line(text, option, value):
    """The fixture's .cf with one option line replaced (or added at the end)."""
    lines = [line for line in text.splitlines() if not line.startswith('O %s=' % option)]
    return '\n'.join(lines + ([] if value is None else ['O %s=%s' % (option, value)])) + '\n'


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_stock_debian_fails_the_probes_help_and_limits_and_legacy_also_loglevel_and_relay(release):
    stock = [i for i in failing_ids_of(evaluate(CONTROLS, expected_all(), stock_state(release), today=TODAY)) if i in NEW]
    legacy = [i for i in failing_ids_of(evaluate(CONTROLS, expected_all(), legacy_state(release), today=TODAY)) if i in NEW]
    assert stock == ['SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-DOS-01']
    assert legacy == NEW


def test_privacy_options_goaway_stands_for_its_words_but_not_for_noetrn():
    assert privacy_missing(['goaway'], PRIVACY_FULL, {'goaway': list(GOAWAY_WORDS)}) == PRIVACY_FULL[1:]
    assert privacy_missing(list(GOAWAY_WORDS) + PRIVACY_FULL[1:], PRIVACY_FULL, {'goaway': list(GOAWAY_WORDS)}) == []
    result = judge(stock_state(), 'SM-SMTP-01')
    assert result['status'] == 'fail' and result['actual'].endswith('lacks goaway, noetrn, restrictmailq, noreceipts')
    text = set_line(read('bookworm', 'sendmail.cf'), 'PrivacyOptions', 'goaway,noetrn')
    text += 'O PrivacyOptions=restrictqrun restrictmailq,restrictexpand\nO PrivacyOptions=noreceipts,nobodyreturn\n'
    assert judge(with_cf(stock_state(), text), 'SM-SMTP-01')['status'] == 'pass', 'the words of every line add up'
    assert judge(with_cf(stock_state(), text), 'SM-SMTP-01', {'required': ['goaway', 'noactualrecipient']})['status'] == 'fail'


def test_greeting_without_version_keeps_the_rest_of_the_sites_greeting():
    assert greeting_without_version(DEBIAN_GREETING, {'value': None}, {}) == (
        '$j Sendmail; $b; (No UCE/UBE) $?{client_addr}logging access from: ${client_name}(${client_resolve})-$_$.')
    assert greeting_without_version('$j Sendmail ${v} ready at $b', {'value': None}, {}) == '$j Sendmail ready at $b'
    assert greeting_without_version(None, {'value': None}, {}) == '$j Sendmail; $b'
    assert greeting_without_version(DEBIAN_GREETING, {'value': '$j ESMTP'}, {}) == '$j ESMTP'
    text = read('bookworm', 'sendmail.cf')
    assert judge(stock_state(), 'SM-SMTP-02')['actual'] == 'the greeting holds $v and $Z'
    assert judge(with_cf(stock_state(), set_line(text, 'SmtpGreetingMessage', '$j Sendmail $Z')), 'SM-SMTP-02')['status'] == 'fail'
    assert judge(with_cf(stock_state(), set_line(text, 'SmtpGreetingMessage', None)), 'SM-SMTP-02')['status'] == 'fail'
    assert judge(with_cf(stock_state(), set_line(text, 'SmtpGreetingMessage', '$j; $b')), 'SM-SMTP-02')['status'] == 'pass'


def test_help_file_passes_only_when_empty():
    state = stock_state()
    assert judge(state, 'SM-SMTP-03')['actual'] == '/etc/mail/helpfile has 6016 bytes: HELP sends them, the version among them'
    state['paths']['/etc/mail/helpfile']['size'] = 0
    assert judge(state, 'SM-SMTP-03')['status'] == 'pass'
    state['paths']['/etc/mail/helpfile'] = {'path': '/etc/mail/helpfile', 'exists': False, 'error': None}
    assert 'HELP not implemented' in judge(state, 'SM-SMTP-03')['actual'], 'a missing file still shows the version'
    unset = with_cf(stock_state(), set_line(read('bookworm', 'sendmail.cf'), 'HelpFile', None))
    assert judge(unset, 'SM-SMTP-03')['status'] == 'fail'


def test_loglevel_unset_is_sendmails_default_nine():
    text = read('bookworm', 'sendmail.cf')
    assert judge(stock_state(), 'SM-LOG-01')['status'] == 'pass'
    assert judge(with_cf(stock_state(), set_line(text, 'LogLevel', None)), 'SM-LOG-01')['status'] == 'pass'
    assert judge(with_cf(stock_state(), set_line(text, 'LogLevel', '4')), 'SM-LOG-01')['actual'] == 'LogLevel=4 is below 9'
    assert judge(with_cf(stock_state(), set_line(text, 'LogLevel', 'x')), 'SM-LOG-01')['status'] == 'fail'
    assert judge(with_cf(stock_state(), set_line(text, 'LogLevel', '12')), 'SM-LOG-01', {'value': '13'})['status'] == 'fail'


def test_limits_judge_each_option_against_its_bound():
    result = judge(stock_state(), 'SM-DOS-01')
    assert result['actual'] == ('MaxDaemonChildren=0 sets no limit; MaxMessageSize unset (0) sets no limit; '
                                'MaxRecipientsPerMessage unset (0) sets no limit')
    text = read('bookworm', 'sendmail.cf')
    for option, value in (('MaxDaemonChildren', '40'), ('MaxMessageSize', '5000000'), ('MaxRecipientsPerMessage', '50')):
        text = set_line(text, option, value)
    assert judge(with_cf(stock_state(), text), 'SM-DOS-01')['status'] == 'pass', 'MaxHeadersLength unset is 32768'
    above = with_cf(stock_state(), set_line(text, 'MaxMessageSize', '52428800'))
    assert judge(above, 'SM-DOS-01')['actual'] == 'MaxMessageSize=52428800 is above 26214400'
    assert judge(above, 'SM-DOS-01', {'max_message_size': '52428800'})['status'] == 'pass'


def test_relay_features_by_the_marks_they_leave_in_the_cf():
    text = read('bookworm', 'sendmail.cf')
    assert relay_marks(parse_cf(text)) == {'promiscuous_relay': False, 'relay_based_on_MX': False}
    assert judge(legacy_state(), 'SM-RELAY-01')['actual'] == "built with FEATURE(`promiscuous_relay')"
    mx = with_cf(stock_state(), text + 'Kmxserved bestmx -z: -T<TEMP>\n')
    assert judge(mx, 'SM-RELAY-01')['status'] == 'fail'
    assert judge(mx, 'SM-RELAY-01', {'allowed': ['relay_based_on_MX']})['status'] == 'pass'
    for other in ('Kbestmx bestmx\n', 'Kmxlist bestmx\n'):  # bestmx_is_local, badmx: not relaying features
        assert judge(with_cf(stock_state(), text + other), 'SM-RELAY-01')['status'] == 'pass'


# --- the plans --------------------------------------------------------------------------------------------


def test_legacy_plan_of_the_new_controls():
    state = legacy_state()
    steps, notes = option_steps(NEW, expected_all(), state)
    assert notes == []
    assert [(s['id'], s['option'], s['define'], s['after']) for s in steps] == [
        ('SM-SMTP-01', 'PrivacyOptions', 'confPRIVACY_FLAGS', ','.join(PRIVACY_FULL)),
        ('SM-SMTP-02', 'SmtpGreetingMessage', 'confSMTP_LOGIN_MSG', greeting_without_version(DEBIAN_GREETING, {}, {})),
        ('SM-SMTP-03', 'HelpFile', 'HELP_FILE', '/etc/mail/helpfile.empty'),
        ('SM-LOG-01', 'LogLevel', 'confLOG_LEVEL', '9'),
        ('SM-DOS-01', 'MaxDaemonChildren', 'confMAX_DAEMON_CHILDREN', '40'),
        ('SM-DOS-01', 'MaxMessageSize', 'confMAX_MESSAGE_SIZE', '26214400'),
        ('SM-DOS-01', 'MaxRecipientsPerMessage', 'confMAX_RCPTS_PER_MESSAGE', '100'),
    ], 'ConnectionRateThrottle=15 and the unset MaxHeadersLength are within their bounds: no step'
    features, feature_notes = feature_steps(NEW, expected_all(), state)
    assert [(s['id'], s['kind'], s['feature'], s['mc']) for s in features] == [
        ('SM-RELAY-01', 'mc_feature', 'promiscuous_relay', '/etc/mail/sendmail.mc')] and feature_notes == []
    created = empty_file_steps(NEW, expected_all(), state)
    assert [(s['kind'], s['phase'], s['target']) for s in created] == [('empty_file', 'paths', '/etc/mail/helpfile.empty')]
    assert diff_entries(created) == [{'before_header': 'SM-SMTP-03 (created empty)', 'after_header': 'SM-SMTP-03 (created empty)',
                                      'before': '', 'after': '/etc/mail/helpfile.empty: root:root 0644\n'}]


def test_a_limit_above_its_bound_is_never_lowered_and_one_within_it_is_kept():
    text = set_line(read('bookworm', 'sendmail.cf'), 'MaxMessageSize', '52428800')
    text = set_line(text, 'MaxRecipientsPerMessage', '50')
    steps, notes = option_steps(['SM-DOS-01'], expected_all(), with_cf(stock_state(), text))
    assert [(s['option'], s['after']) for s in steps] == [('MaxDaemonChildren', '40')]
    assert [(n['kind'], n['id']) for n in notes] == [('manual', 'SM-DOS-01')]
    assert notes[0]['why'].startswith('MaxMessageSize=52428800 in /etc/mail/sendmail.cf is above 26214400')


def test_a_feature_the_mc_does_not_call_is_left_by_hand():
    state = legacy_state()
    state['cf_sources']['mta']['features'] = []
    steps, notes = feature_steps(['SM-RELAY-01'], expected_all(), state)
    assert steps == [] and [n['kind'] for n in notes] == ['manual']
    assert feature_steps(['SM-RELAY-01'], expected_all({'SM-RELAY-01': {'allowed': ['promiscuous_relay']}}), legacy_state()) == ([], [])


def test_an_existing_help_file_is_never_emptied():
    state = legacy_state()
    state['paths']['/etc/mail/helpfile.empty'] = dict(state['paths']['/etc/mail/helpfile'], path='/etc/mail/helpfile.empty')
    assert [s['kind'] for s in empty_file_steps(['SM-SMTP-03'], expected_all(), state)] == ['refuse']
    state['paths']['/etc/mail/helpfile.empty']['size'] = 0
    assert empty_file_steps(['SM-SMTP-03'], expected_all(), state) == []


def test_m4_warnings_are_not_errors():
    warning = "*** WARNING: FEATURE(`promiscuous_relay') configures your system as open\n\trelay.  Do NOT use it!\n"
    assert m4_errors(warning) == ''
    assert m4_errors(warning + '*** ERROR: FEATURE() should be before MAILER()\n') == '*** ERROR: FEATURE() should be before MAILER()'
    assert m4_errors('m4:stdin:3: bad macro\n') == 'm4:stdin:3: bad macro'


def test_an_empty_file_is_created_root_owned_and_nothing_is_replaced(tmp_path):
    os.chmod(tmp_path, 0o755)
    target = tmp_path / 'helpfile.empty'
    item = {'kind': 'empty_file', 'target': str(target)}
    assert apply_entry(item, check_mode=True) == {'changed': True, 'refused': None, 'error': None}
    assert not target.exists()
    assert apply_entry(item)['changed'] is True
    st = os.lstat(target)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777, st.st_size) == (0, 0, 0o644, 0)
    assert apply_entry(item)['changed'] is False, 'an empty file is left as it is'
    target.write_text('This is sendmail version $v\n')
    assert 'not an empty file' in apply_entry(item)['refused']
    os.unlink(target)
    os.symlink('/etc/passwd', target)
    assert 'not an empty file' in apply_entry(item)['refused'] and os.path.islink(target)
    os.unlink(target)
    os.chmod(tmp_path, 0o777)
    assert 'written by others' in apply_entry(item)['refused']
    assert apply_entry(item, check_mode=True, parent_fixed=True)['refused'] is None, 'a step before fixes the directory'


# --- aliases ----------------------------------------------------------------------------------------------

ALIASES = '# site aliases\nroot: alice\ndecode: "|/usr/bin/uudecode -o /tmp"\nUUdecode:\n\t"|/usr/bin/uudecode"\nbob: bob\n'


def test_alias_edits_comment_out_whole_entries_and_append_one():
    assert [(e['line'], e['end'], e['name']) for e in alias_entries(ALIASES)] == [
        (2, 2, 'root'), (3, 3, 'decode'), (4, 5, 'UUdecode'), (6, 6, 'bob')]
    disabled = disable(ALIASES, ['decode', 'uudecode'], 'why')
    assert disabled == ('# site aliases\nroot: alice\n# why\n#decode: "|/usr/bin/uudecode -o /tmp"\n# why\n#UUdecode:\n'
                        '#\t"|/usr/bin/uudecode"\nbob: bob\n')
    assert [e['name'] for e in alias_entries(disabled)] == ['root', 'bob']
    assert disable(ALIASES, ['nobody'], 'why') == ALIASES
    assert add('root: alice', 'postmaster', 'root') == 'root: alice\npostmaster: root\n'
    assert program_path('"/usr/bin/uudecode -o /tmp"') == '/usr/bin/uudecode' and program_path('vacation bob') is None
    joined = 'list: a,\\\ndecode: "|x"\nroot: alice\n# note\n\tbob\n'
    assert [(e['name'], e['rhs']) for e in alias_entries(joined)] == [('list', 'a, decode: "|x"'), ('root', 'alice')], \
        'a backslash joins the next line; a comment ends an entry'
    assert add('x: a,\\\n', 'postmaster', 'root') == 'x: a,\\\n\npostmaster: root\n'


def test_legacy_aliases_fail_and_the_plan_edits_the_file_once_per_control_then_rebuilds():
    state = legacy_state()
    assert judge(state, 'SM-ALIAS-01')['actual'] == 'aliases decode (/etc/mail/aliases, line 1)'
    assert judge(state, 'SM-ALIAS-02')['actual'] == 'no alias for postmaster'
    assert judge(state, 'SM-ALIAS-03')['actual'] == '/usr/local/bin/lab-decode: owner alice, not root, mode 0775 has 0020 beyond 0755'
    steps = alias_steps(['SM-ALIAS-01', 'SM-ALIAS-02'], expected_all(), state)
    assert [(s['id'], s['kind'], s['phase'], s['target']) for s in steps] == [
        ('SM-ALIAS-01', 'alias_edit', 'config', '/etc/aliases'), ('SM-ALIAS-02', 'alias_edit', 'config', '/etc/aliases'),
        (None, 'map_rebuild', 'config', 'aliases')]
    assert steps[1]['before'] == steps[0]['after'], 'the second edit starts from the first'
    final = [e['name'] for e in alias_entries(steps[1]['after'])]
    assert final == ['postmaster']
    fixed = copy.deepcopy(state)
    fixed['alias_sources']['/etc/mail/aliases']['entries'] = alias_entries(steps[1]['after'])
    assert judge(fixed, 'SM-ALIAS-01')['status'] == judge(fixed, 'SM-ALIAS-02')['status'] == 'pass'


def test_no_alias_file_to_add_to_is_refused_and_an_unreadable_one_is_an_error():
    state = stock_state()
    state['alias_sources'] = {}
    assert [s['kind'] for s in alias_steps(['SM-ALIAS-02'], expected_all(), state)] == ['refuse']
    state['alias_sources'] = {'/etc/mail/aliases': {'path': '/etc/mail/aliases', 'resolved': None, 'error': 'Permission denied',
                                                    'text': None, 'entries': []}}
    assert judge(state, 'SM-ALIAS-01')['status'] == 'error'


def test_the_runas_gate_leaves_out_the_aliases_the_plan_comments_out():
    steps = alias_steps(['SM-ALIAS-01'], expected_all(), legacy_state())
    decode = {'kind': 'alias', 'path': '/etc/mail/aliases', 'user': 'decode', 'line': '1: decode: "|/usr/local/bin/lab-decode"'}
    other = dict(decode, user='lab-note', line='2: lab-note: "|/usr/local/bin/lab-note"')
    impact = {'user': 'smmta', 'set': False, 'items': [decode, other]}
    assert without_disabled(impact, steps)['items'] == [other]
    assert without_disabled(impact, []) is impact


def test_commenting_out_the_only_root_delivery_fixes_sm_runas_02_too():
    steps = alias_steps(['SM-ALIAS-01'], expected_all(), legacy_state())
    decode = {'kind': 'alias', 'path': '/etc/mail/aliases', 'user': 'decode', 'line': '1: decode: "|/usr/local/bin/lab-decode"'}
    before = {'user': 'smmta', 'set': False, 'items': [decode]}
    assert credit_runas_impact(steps, before, without_disabled(before, steps)) is True
    assert changed_ids(steps) == ['SM-ALIAS-01', 'SM-RUNAS-02']
    kept = {'user': 'smmta', 'set': False, 'items': [decode, dict(decode, user='lab-note')]}
    fresh = alias_steps(['SM-ALIAS-01'], expected_all(), legacy_state())
    assert credit_runas_impact(fresh, kept, without_disabled(kept, fresh)) is False and changed_ids(fresh) == ['SM-ALIAS-01']


# --- ForwardPath ------------------------------------------------------------------------------------------


def test_forward_path_policies():
    state = stock_state()
    assert judge(state, 'SM-FWD-01')['actual'] == 'ForwardPath=$z/.forward.$w:$z/.forward: $z/.forward.$w beyond policy restrict'
    assert judge(state, 'SM-FWD-01', {'policy': 'keep'})['status'] == 'pass'
    assert judge(state, 'SM-FWD-01', {'allowed': ['$z/.forward.$w', '$z/.forward']})['status'] == 'pass'
    assert judge(state, 'SM-FWD-01', {'policy': 'empty'})['status'] == 'fail'
    unset = with_cf(state, set_line(read('bookworm', 'sendmail.cf'), 'ForwardPath', None))
    assert judge(unset, 'SM-FWD-01')['actual'] == 'ForwardPath unset ($z/.forward) (policy restrict)'
    empty = with_cf(state, set_line(read('bookworm', 'sendmail.cf'), 'ForwardPath', ''))
    assert judge(empty, 'SM-FWD-01', {'policy': 'empty'})['status'] == 'pass'
    assert forward_path('$z/.forward.$w:$z/.forward', {'policy': 'restrict', 'allowed': ['$z/.forward']}, {}) == '$z/.forward'
    assert forward_path('/var/forward/$u', {'policy': 'restrict', 'allowed': ['$z/.forward']}, {}) == '', 'never an entry it did not read'


def test_forward_path_is_left_where_a_user_has_a_file_on_an_entry_it_drops():
    state = stock_state()
    steps, notes = option_steps(['SM-FWD-01'], expected_all(), state)
    assert [(s['option'], s['after']) for s in steps] == [('ForwardPath', '$z/.forward')] and notes == []
    steps, notes = option_steps(['SM-FWD-01'], expected_all({'SM-FWD-01': {'policy': 'empty'}}), state)
    assert [(s['option'], s['after']) for s in steps] == [('ForwardPath', '')], 'empty is a value to set'
    state['forward_files'] = [{'user': 'alice', 'entry': '$z/.forward.$w', 'path': '/home/alice/.forward.mx1'},
                              {'user': 'bob', 'entry': '$z/.forward', 'path': '/home/bob/.forward'}]
    steps, notes = option_steps(['SM-FWD-01'], expected_all(), state)
    assert steps == [] and notes[0]['why'].startswith('ForwardPath left as it is: 1 users have files on the entries it would drop '
                                                      '(/home/alice/.forward.mx1)')
    assert judge(state, 'SM-FWD-01')['actual'].endswith('; 1 users have files there')
    steps, notes = option_steps(['SM-FWD-01'], expected_all({'SM-FWD-01': {'policy': 'empty'}}), state)
    assert steps == [] and '2 users' in notes[0]['why']


def test_forward_files_are_looked_for_in_every_home(tmp_path):
    (tmp_path / 'alice').mkdir()
    (tmp_path / 'alice' / '.forward.mx1').write_text('alice@elsewhere\n')
    configs = {'mta': {'settings': {'ForwardPath': '$z/.forward.$w:$z/.forward'}}}
    found = forward_files(configs, users=[('alice', str(tmp_path / 'alice')), ('bob', str(tmp_path / 'bob'))], host='mx1')
    assert found == [{'user': 'alice', 'entry': '$z/.forward.$w', 'path': str(tmp_path / 'alice' / '.forward.mx1'), 'programs': []}]


# --- smrsh ------------------------------------------------------------------------------------------------


def test_prog_mailer_is_judged_by_its_path():
    state = stock_state()
    assert judge(state, 'SM-PROG-01')['actual'] == 'P=/bin/sh: any command an alias or .forward names is run'
    state['configs']['mta']['mailers']['prog']['path'] = '/usr/libexec/sendmail/smrsh'
    assert judge(state, 'SM-PROG-01')['status'] == 'pass'
    del state['configs']['mta']['mailers']['prog']
    assert judge(state, 'SM-PROG-01')['actual'] == 'no prog mailer: no program is run'
    assert judge(stock_state(), 'SM-PROG-02')['actual'] == '/etc/mail: owner smmta, not root; /etc/mail/smrsh: owner smmta, not root'


def test_smrsh_is_added_only_where_it_runs_every_program_in_use():
    state = stock_state()
    state['smrsh_entries'] = [{'name': 'mail.local', 'link': None}, {'name': 'procmail', 'link': '/usr/bin/procmail'}]
    steps, notes = feature_steps(['SM-PROG-01'], expected_all(), state)
    assert [(s['kind'], s['feature'], s['add']) for s in steps] == [('mc_feature', 'smrsh', True)] and notes == []
    state['forward_files'] = [{'user': 'alice', 'entry': '$z/.forward', 'path': '/home/alice/.forward',
                               'programs': ['/usr/bin/procmail -t', '"/usr/local/bin/note"']}]
    state['alias_sources']['/etc/mail/aliases'] = alias_source_of('news: "|/usr/local/bin/rnews"\n')
    state['forward_files'].append({'user': 'bob', 'entry': '$z/.forward', 'path': '/home/bob/.forward', 'programs': None})
    assert smrsh_missing(state)[-1] == '/home/bob/.forward (not readable: its programs are not known)'
    state['forward_files'].pop()
    steps, notes = feature_steps(['SM-PROG-01'], expected_all(), state)
    assert steps == [] and notes[0]['why'] == (
        "FEATURE(`smrsh') not added: smrsh would not run 2 programs in use, none of them in its directory "
        '(/etc/mail/aliases: news (/usr/local/bin/rnews); /home/alice/.forward ("/usr/local/bin/note")): link each there first')
    state['smrsh_entries'] += [{'name': 'note', 'link': None}, {'name': 'rnews', 'link': None}]
    assert [s['feature'] for s in feature_steps(['SM-PROG-01'], expected_all(), state)[0]] == ['smrsh']


def test_programs_in_include_lists_hold_smrsh_back_too(tmp_path):
    inner = tmp_path / 'inner.list'
    inner.write_text('"|/usr/local/bin/archive"\nroot\n')
    outer = tmp_path / 'staff.list'
    outer.write_text('alice, :include:%s\n' % inner)
    state = stock_state()
    state['smrsh_entries'] = [{'name': 'mail.local', 'link': None}]
    state['alias_sources']['/etc/mail/aliases'] = alias_source_of('staff: :include:%s\nghost: :include:%s\n' % (
        outer, tmp_path / 'missing.list'))
    state['alias_includes'] = alias_includes(state['alias_sources'])
    assert state['alias_includes'] == {str(outer): ['/usr/local/bin/archive'], str(tmp_path / 'missing.list'): None}
    assert smrsh_missing(state) == [
        '/etc/mail/aliases: staff, :include:%s (/usr/local/bin/archive)' % outer,
        '/etc/mail/aliases: ghost, :include:%s (not readable: its programs are not known)' % (tmp_path / 'missing.list')]
    steps, notes = feature_steps(['SM-PROG-01'], expected_all(), state)
    assert steps == [] and 'smrsh would not run 2 programs in use' in notes[0]['why']


def test_an_alias_the_plan_comments_out_does_not_hold_smrsh_back():
    state = legacy_state()
    state['smrsh_entries'] = [{'name': 'mail.local', 'link': None}]
    assert smrsh_missing(state) == ['/etc/mail/aliases: decode (/usr/local/bin/lab-decode)']
    edits = alias_steps(['SM-ALIAS-01'], expected_all(), state)
    assert smrsh_missing(state, edits) == []
    assert [s['feature'] for s in feature_steps(['SM-PROG-01'], expected_all(), state, edits)[0]] == ['smrsh']


def alias_source_of(text):
    return {'path': '/etc/mail/aliases', 'resolved': '/etc/aliases', 'error': None, 'text': text, 'entries': alias_entries(text)}


def test_shells_and_interpreters_leave_smrshs_directory_unless_in_use():
    state = stock_state()
    state['smrsh_entries'] = [{'name': 'procmail', 'link': '/usr/bin/procmail'}, {'name': 'sh', 'link': '/bin/sh'},
                              {'name': 'py', 'link': '/usr/bin/python3.11'}, {'name': 'perl5.36', 'link': None}]
    assert judge(state, 'SM-PROG-03')['actual'] == (
        'interpreters: /etc/mail/smrsh/sh (sh), /etc/mail/smrsh/py (python3), /etc/mail/smrsh/perl5.36 (perl)')
    assert judge(state, 'SM-PROG-03', {'allowed': ['sh', 'py', 'perl5.36']})['status'] == 'pass'
    state['alias_sources']['/etc/mail/aliases'] = alias_source_of('run: "|sh -c date"\n')
    steps = smrsh_remove_steps(['SM-PROG-03'], expected_all(), state)
    assert [(s['kind'], s['target']) for s in steps] == [
        ('manual', '/etc/mail/smrsh/sh'), ('unlink', '/etc/mail/smrsh/py'), ('unlink', '/etc/mail/smrsh/perl5.36')]
    assert steps[0]['why'] == '/etc/mail/smrsh/sh (sh) left: /etc/mail/aliases: run run it'


def test_smtp_debugging_is_judged_from_the_build():
    state = stock_state()
    state.update(compiled_with=['DNSMAP', 'LOG'])
    assert judge(state, 'SM-SMTP-04')['status'] == 'pass'
    state.update(compiled_with=['LOG', 'SMTPDEBUG'])
    assert judge(state, 'SM-SMTP-04')['actual'] == 'built with SMTPDEBUG: DEBUG and SHOWQ answer any client'


def test_an_entry_is_removed_from_a_root_only_directory_only(tmp_path):
    os.chmod(tmp_path, 0o755)
    link = tmp_path / 'sh'
    os.symlink('/bin/sh', link)
    item = {'kind': 'unlink', 'target': str(link)}
    assert apply_entry(item, check_mode=True)['changed'] is True and os.path.islink(link)
    assert apply_entry(item)['changed'] is True and not os.path.lexists(link)
    assert apply_entry(item)['changed'] is False
    (tmp_path / 'dir').mkdir()
    assert 'neither a link nor a regular file' in apply_entry({'kind': 'unlink', 'target': str(tmp_path / 'dir')})['refused']
    os.chmod(tmp_path, 0o777)
    os.symlink('/bin/sh', link)
    assert 'written by others' in apply_entry(item)['refused'] and os.path.islink(link)


# --- the mail log -----------------------------------------------------------------------------------------


def test_mail_rules_of_syslog():
    text = ('# comment\nmail.*\t\t\t-/var/log/mail.log\nmail.err\t/var/log/mail.err\n*.*;auth,authpriv.none\t-/var/log/syslog\n'
            '*.info;mail.none\t/var/log/messages\n*.emerg\t:omusrmsg:*\nmail.!*\t/var/log/none\n*.emerg\t/dev/console\n'
            'mail.=info;\\\n\tnews.none\t/var/log/info.log\n')
    files = [rule['file'] for rule in mail_rules(text, '/etc/rsyslog.conf')]
    assert files == ['/var/log/mail.log', '/var/log/syslog', '/var/log/info.log']


def test_mail_log_files_are_judged_where_a_syslog_daemon_is_configured():
    state = stock_state()
    assert judge(state, 'SM-LOG-02')['status'] == 'not_applicable'
    state['syslog'] = {'configs': ['/etc/rsyslog.conf'], 'rules': []}
    assert judge(state, 'SM-LOG-02')['actual'] == 'no rule sends the mail facility to a file: mail is not logged'
    state['syslog']['rules'] = mail_rules('mail.*\t-/var/log/mail.log\n', '/etc/rsyslog.conf')
    state['layout']['mail_logs'] = ['/var/log/mail.log']
    state['paths']['/var/log/mail.log'] = {'path': '/var/log/mail.log', 'exists': True, 'error': None, 'type': 'file',
                                           'owner': 'alice', 'group': 'alice', 'mode': '0666', 'link': None, 'target': None,
                                           'size': 0}
    assert judge(state, 'SM-LOG-02')['actual'] == '/var/log/mail.log: owner alice, not root or syslog, mode 0666 has 0022 beyond 0644'
    state['paths']['/var/log/mail.log'].update(owner='root', group='adm', mode='0640')
    assert judge(state, 'SM-LOG-02')['status'] == 'pass'


def test_smrsh_refuses_shell_syntax_and_runs_exec_by_name():
    assert smrsh_name('exec /usr/bin/vacation bob') == 'vacation'
    assert smrsh_name('cat >> /tmp/x') is None and smrsh_name('/usr/bin/procmail -a $h') is None
    state = stock_state()
    state['smrsh_entries'] = [{'name': 'cat', 'link': '/bin/cat'}]
    state['alias_sources']['/etc/mail/aliases'] = alias_source_of('dump: "|cat >> /var/tmp/dump"\n')
    assert smrsh_missing(state) == ['/etc/mail/aliases: dump (cat >> /var/tmp/dump)'], 'smrsh would refuse it, link or not'


def test_a_directory_another_user_owns_is_not_given_to_root():
    state = legacy_state()
    state['layout']['alias_program_dirs'].append('/home/alice/bin')
    state['paths']['/home/alice/bin'] = dict(state['paths']['/usr/local/bin'], path='/home/alice/bin', owner='alice', mode='0755')
    steps = file_steps(['SM-ALIAS-03'], expected_all(), state, {'statoverride': True, 'dpkg': True})
    assert [(s['kind'], s['target']) for s in steps] == [('refuse', '/home/alice/bin'), ('path', '/usr/local/bin/lab-decode')]


def test_a_second_plan_of_the_new_controls_is_empty():
    state = legacy_state()
    edits = alias_steps(NEW_ALL, expected_all(), state)
    options, _notes = option_steps(NEW_ALL, expected_all(), state)
    fixed = copy.deepcopy(state)
    fixed['alias_sources']['/etc/mail/aliases'] = alias_source_of([e for e in edits if e['kind'] == 'alias_edit'][-1]['after'])
    text = read('bookworm', 'sendmail.cf')
    for item in options:
        text = set_line(text, item['option'], item['after'])
    fixed = with_cf(fixed, text)
    fixed['configs']['mta']['mailers']['prog']['path'] = '/usr/libexec/sendmail/smrsh'
    fixed['smrsh_entries'] = []
    fixed['paths']['/etc/mail/helpfile.empty'] = dict(fixed['paths']['/etc/mail/helpfile'], path='/etc/mail/helpfile.empty', size=0)
    for path in ('/etc/mail', '/etc/mail/smrsh', '/usr/local/bin/lab-decode', '/var/log/mail.log'):
        fixed['paths'][path].update(owner='root', mode='0755' if fixed['paths'][path]['type'] == 'dir' else '0644')
    fixed['layout']['alias_programs'], fixed['layout']['alias_program_dirs'] = [], []
    still = [i for i in failing_ids_of(evaluate(CONTROLS, expected_all(), fixed, today=TODAY)) if i in NEW_ALL]
    assert still == []
    assert alias_steps(NEW_ALL, expected_all(), fixed) == [] and option_steps(NEW_ALL, expected_all(), fixed) == ([], [])
    assert feature_steps(['SM-RELAY-01'], expected_all(), fixed) == ([], []) and empty_file_steps(NEW_ALL, expected_all(), fixed) == []
    assert smrsh_remove_steps(NEW_ALL, expected_all(), fixed) == []


NEW_ALL = ['SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-ALIAS-01', 'SM-ALIAS-02', 'SM-ALIAS-03', 'SM-FWD-01', 'SM-PROG-01',
           'SM-PROG-02', 'SM-PROG-03', 'SM-LOG-01', 'SM-LOG-02', 'SM-DOS-01', 'SM-RELAY-01']


def test_an_alias_file_is_edited_only_through_links_root_alone_could_have_made(tmp_path):
    safe = tmp_path / 'etc'
    safe.mkdir(mode=0o755)
    (safe / 'aliases').write_text('decode: "|x"\n')
    mail = safe / 'mail'
    mail.mkdir(mode=0o755)
    os.symlink('../aliases', mail / 'aliases')
    os.chmod(tmp_path, 0o755)
    item = {'source': str(mail / 'aliases'), 'target': str(safe / 'aliases')}
    assert alias_link_problem(item, {}) is None
    os.chown(mail, 1000, 0)  # the MTA user's /etc/mail, as Debian ships it: the link could point anywhere
    assert 'which others than root can write to' in alias_link_problem(item, {})
    assert alias_link_problem(item, {str(mail): {'owner': 'root', 'group': 'smmsp', 'mode': '2755'}}) is None, \
        'a path step before gives the directory to root'
    os.chown(mail, 0, 0)
    os.unlink(mail / 'aliases')
    os.symlink('/etc/passwd', mail / 'aliases')
    assert 'now leads to /etc/passwd' in alias_link_problem(item, {})
