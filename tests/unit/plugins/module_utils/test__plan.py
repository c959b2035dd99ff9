# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Planning the hardening: state + findings -> actions, on states built from the Debian fixtures
(the stock and legacy hosts of test__evaluate, measured on lab hosts)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, CONTROLS, expected_for
from ansible_collections.mailsec.sendmail.plugins.module_utils._evaluate import evaluate
from ansible_collections.mailsec.sendmail.plugins.module_utils._harden import (
    PlanError, account_errors, attributes_text, diff_entries, failing_ids, path_name_errors, plan_files, plan_mc, predict_state,
)
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__evaluate import (
    ACCOUNTS, BINARY, LEGACY_FAILS, STOCK_FAILS, TODAY, legacy_state, read, stock_state,
)

USERS = {'root': 'root', 'smmta': 'smmta', 'smmsp': 'smmsp', 'alice': 'alice'}
GROUPS = {'root', 'smmta', 'smmsp', 'alice', 'mail'}
DPKG = {'statoverride': True, 'dpkg': True}


def expected_all(family='Debian', overrides=None):
    return {c['id']: expected_for(c, family, (overrides or {}).get(c['id'])) for c in CONTROLS}


def failing(state, expected=None):
    return failing_ids(evaluate(CONTROLS, expected or expected_all(), state, today=TODAY))


def lookup_account(token):
    return copy.deepcopy(ACCOUNTS.get(token))


def no_lstat(path, follow):
    return {'path': path, 'exists': False, 'error': None}


def after_mc(state, batches):
    """The state once the batches' defines are in the .cf (what the module reads again after phase 1)."""
    texts = {}
    for batch in batches:
        text = read(state['os']['release'], 'sendmail.cf' if batch['role'] == 'mta' else 'submit.cf')
        names = {'confRUN_AS_USER': 'RunAsUser', 'confDONT_BLAME_SENDMAIL': 'DontBlameSendmail',
                 'confQUEUE_FILE_MODE': 'QueueFileMode', 'confSAFE_FILE_ENV': 'SafeFileEnvironment'}
        for define, value in batch['defines'].items():
            text += 'O %s=%s\n' % (names[define], value)
        texts[batch['role']] = text
    return predict_state(state, texts, lookup_account, no_lstat)


def ops_summary(ops):
    return [(op['kind'], op['id'], op['path'], attributes_text(op['after']) if op['kind'] == 'path' else op.get('after'))
            for op in ops]


# --- phase 1: .mc defines -------------------------------------------------------------------------


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_legacy_mc_defines_are_one_batch_for_sendmail_mc(release):
    state = legacy_state(release)
    assert failing(state) == LEGACY_FAILS
    batches, notes = plan_mc(LEGACY_FAILS, expected_all(), state)
    assert notes == []
    assert len(batches) == 1
    batch = batches[0]
    assert (batch['mc'], batch['cf'], batch['role']) == ('/etc/mail/sendmail.mc', '/etc/mail/sendmail.cf', 'mta')
    assert batch['defines'] == {'confRUN_AS_USER': 'smmta:smmsp', 'confDONT_BLAME_SENDMAIL': 'safe'}
    assert batch['controls'] == ['SM-RUNAS-01', 'SM-SAFE-01']
    assert batch['by_define'] == {'confRUN_AS_USER': ['SM-RUNAS-01'], 'confDONT_BLAME_SENDMAIL': ['SM-SAFE-01']}


def test_batches_per_mc_file_and_controls_with_two_kinds_of_action():
    state = stock_state()
    ids = ['SM-RUNAS-01', 'SM-MSP-01', 'SM-QUEUE-03', 'SM-SAFE-01', 'SM-SAFE-02']
    batches, notes = plan_mc(ids, expected_all(overrides={'SM-SAFE-02': {'value': '/var/empty'}}), state)
    assert notes == []
    assert [(b['mc'], b['cf']) for b in batches] == [('/etc/mail/sendmail.mc', '/etc/mail/sendmail.cf'),
                                                     ('/etc/mail/submit.mc', '/etc/mail/submit.cf')]
    assert list(batches[0]['defines'].items()) == [('confRUN_AS_USER', 'smmta:smmsp'), ('confQUEUE_FILE_MODE', '0600'),
                                                   ('confDONT_BLAME_SENDMAIL', 'safe'), ('confSAFE_FILE_ENV', '/var/empty')]
    assert batches[1]['defines'] == {'confRUN_AS_USER': 'smmsp'} and batches[1]['role'] == 'msp'
    # Path-only and manual controls give no batch.
    assert plan_mc(['SM-FILE-01', 'SM-TRUST-01', 'SM-PRIVDROP-01'], expected_all(), state) == ([], [])


def test_the_mc_files_sit_next_to_the_cf_sendmail_reads():
    state = stock_state()
    state['configs']['mta']['path'] = '/opt/mail/sendmail.cf'
    batches, _notes = plan_mc(['SM-SAFE-01'], expected_all(), state)
    assert (batches[0]['mc'], batches[0]['cf']) == ('/opt/mail/sendmail.mc', '/opt/mail/sendmail.cf')


def test_a_run_as_user_without_value_is_a_note_not_a_define():
    batches, notes = plan_mc(['SM-RUNAS-01'], expected_all('RedHat'), stock_state())
    assert batches == []
    assert notes == [{'id': 'SM-RUNAS-01', 'reason': 'no value to set for confRUN_AS_USER: give it in expected.SM-RUNAS-01'}]
    batches, notes = plan_mc(['SM-RUNAS-01'], expected_all('RedHat', {'SM-RUNAS-01': {'user': 'mailnull'}}), stock_state())
    assert notes and batches == []  # user without group: '{user}:{group}' cannot be filled
    batches, notes = plan_mc(['SM-RUNAS-01'], expected_all('Debian', {'SM-RUNAS-01': {'user': 'mailnull'}}), stock_state())
    assert batches[0]['defines'] == {'confRUN_AS_USER': 'mailnull:smmsp'} and notes == []


def test_two_controls_asking_one_define_differently_fail(monkeypatch):
    action = {'kind': 'mc_define', 'mc': 'sendmail.mc', 'define': 'confDONT_BLAME_SENDMAIL', 'value': 'GroupWritableAliasFile'}
    control = dict(BY_ID['SM-SAFE-02'], fix_data=[action])
    monkeypatch.setitem(BY_ID, 'SM-SAFE-02', control)
    with pytest.raises(PlanError, match='SM-SAFE-02 asks confDONT_BLAME_SENDMAIL=GroupWritableAliasFile .* but SM-SAFE-01 asks safe'):
        plan_mc(['SM-SAFE-01', 'SM-SAFE-02'], expected_all(), stock_state())


def test_unknown_run_as_user_or_group_is_refused_before_any_write():
    batches, _notes = plan_mc(['SM-RUNAS-01'], expected_all(overrides={'SM-RUNAS-01': {'user': 'nosuch'}}), stock_state())
    assert account_errors(batches, USERS, GROUPS) == [
        'RunAsUser nosuch:smmsp for /etc/mail/sendmail.mc (SM-RUNAS-01): user nosuch does not exist on this host; '
        'create it or give another user in expected.SM-RUNAS-01']
    errors = account_errors(batches, USERS, GROUPS - {'smmsp'})
    assert len(errors) == 2 and 'group smmsp does not exist' in errors[1]
    good, _notes = plan_mc(['SM-RUNAS-01'], expected_all(), stock_state())
    assert account_errors(good, USERS, GROUPS) == []


def test_path_owners_named_in_expected_must_exist():
    expected = expected_all(overrides={'SM-QUEUE-01': {'owner': ['mta']}, 'SM-QUEUE-02': {'group': ['nogroup']}})
    assert path_name_errors(['SM-QUEUE-01', 'SM-QUEUE-02', 'SM-RUNAS-01'], expected, USERS, GROUPS) == [
        'expected.SM-QUEUE-01.owner names mta, which does not exist on this host',
        'expected.SM-QUEUE-02.group names nogroup, which does not exist on this host']
    assert path_name_errors([c['id'] for c in CONTROLS], expected_all(), USERS, GROUPS) == []


# --- phase 2: files, modes, statoverrides ---------------------------------------------------------


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_legacy_host_after_the_mc_phase(release):
    state = legacy_state(release)
    batches, _notes = plan_mc(LEGACY_FAILS, expected_all(), state)
    state2 = after_mc(state, batches)
    # RunAsUser is set and DontBlameSendmail is safe: those controls pass, SM-QUEUE-01 now allows smmta.
    assert failing(state2) == ['SM-SETUID-01', 'SM-STATOVR-01', 'SM-FILE-01', 'SM-FILE-02', 'SM-FILE-05', 'SM-QUEUE-01',
                               'SM-QUEUE-02']
    ops, notes = plan_files(failing(state2), expected_all(), state2, DPKG, runas_changed=True)
    assert notes == []
    assert ops_summary(ops) == [
        # SM-RUNAS-01's own fix: the MTA now runs as smmta and must own its queue.
        ('path', 'SM-RUNAS-01', '/var/spool/mqueue', 'smmta:smmsp 0777'),
        ('path', 'SM-SETUID-01', BINARY, 'root:smmsp 2755'),
        ('statoverride', 'SM-SETUID-01', BINARY, 'root smmsp 2755'),
        ('path', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root:root 0755'),
        ('statoverride', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root root 0755'),
        ('path', 'SM-FILE-01', '/etc/mail', 'root:smmsp 2755'),
        ('path', 'SM-FILE-02', '/etc/mail/sendmail.cf', 'root:smmsp 0644'),
        ('path', 'SM-FILE-05', '/etc/mail/aliases', 'root:alice 0644'),
        ('path', 'SM-QUEUE-01', '/var/spool/mqueue', 'smmta:smmsp 0700'),
        ('path', 'SM-QUEUE-02', '/var/spool/mqueue-client', 'smmsp:smmsp 0770'),
    ]
    by_path = {(op['id'], op['path']): op for op in ops if op['kind'] == 'path'}
    aliases = by_path[('SM-FILE-05', '/etc/mail/aliases')]
    assert aliases['follow'] is True and aliases['target'] == '/etc/aliases'  # the link followed on purpose
    assert (aliases['owner'], aliases['group'], aliases['mode']) == ('root', None, None)
    pin = by_path[('SM-SETUID-01', BINARY)]
    # The path action comes first; the pin update follows it, replacing the old entry.
    assert [op['kind'] for op in ops if op['path'] == BINARY] == ['path', 'statoverride']
    binary_pin = [op for op in ops if op['kind'] == 'statoverride' and op['path'] == BINARY][0]
    assert (binary_pin['before'], binary_pin['after'], binary_pin['remove']) == ('root smmsp 6755', 'root smmsp 2755', True)
    mda_pin = [op for op in ops if op['kind'] == 'statoverride' and op['path'] == '/usr/sbin/sensible-mda'][0]
    assert (mda_pin['before'], mda_pin['remove']) == (None, False)
    assert pin['before'] == {'owner': 'root', 'group': 'smmsp', 'mode': '6755'}
    # SM-STATOVR-01 fails too, but SM-SETUID-01's pin update already gives it what it wants.
    assert not [op for op in ops if op['id'] == 'SM-STATOVR-01']


def test_stock_host_only_the_mode_of_a_queue_smmta_already_owns():
    state = stock_state()
    assert failing(state) == STOCK_FAILS
    batches, _notes = plan_mc(STOCK_FAILS, expected_all(), state)
    state2 = after_mc(state, batches)
    ops, _notes = plan_files(failing(state2), expected_all(), state2, DPKG, runas_changed=True)
    assert ops_summary(ops) == [
        ('path', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root:root 0755'),
        ('statoverride', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root root 0755'),
        ('path', 'SM-FILE-01', '/etc/mail', 'root:smmsp 2755'),
        ('path', 'SM-QUEUE-01', '/var/spool/mqueue', 'smmta:smmsp 0700'),
    ]


def test_without_run_as_user_the_queue_goes_to_root():
    state = stock_state()
    ops, _notes = plan_files(['SM-QUEUE-01'], expected_all(), state, DPKG)
    assert ops_summary(ops) == [('path', 'SM-QUEUE-01', '/var/spool/mqueue', 'root:smmsp 0700')]


def test_statoverride_option_and_hosts_without_dpkg():
    state = legacy_state()
    ops, _notes = plan_files(['SM-SETUID-01'], expected_all(), state, {'statoverride': False, 'dpkg': True})
    # No new pin for sensible-mda, but the existing pin of the binary is updated (else an upgrade undoes the fix).
    assert [(op['path'], op['after']) for op in ops if op['kind'] == 'statoverride'] == [(BINARY, 'root smmsp 2755')]
    ops, _notes = plan_files(['SM-SETUID-01', 'SM-STATOVR-01'], expected_all(), state, {'statoverride': True, 'dpkg': False})
    assert [op['kind'] for op in ops] == ['path', 'path', 'refuse']
    assert ops[2]['reason'] == 'dpkg-statoverride is not available on this host'


def test_statoverride_control_alone_pins_and_fixes_the_file():
    state = legacy_state()
    ops, _notes = plan_files(['SM-STATOVR-01'], expected_all(), state, DPKG)
    assert ops_summary(ops) == [('statoverride', 'SM-STATOVR-01', BINARY, 'root smmsp 2755'),
                                ('path', 'SM-STATOVR-01', BINARY, 'root:smmsp 2755')]
    state['statoverrides'].append({'owner': 'root', 'group': 'root', 'mode': '4755', 'path': '/usr/sbin/sensible-mda'})
    ops, _notes = plan_files(['SM-STATOVR-01'], expected_all(), state, DPKG)
    assert ('statoverride', 'SM-STATOVR-01', '/usr/sbin/sensible-mda', 'root root 0755') in ops_summary(ops)


def test_allowed_setuid_files_stay():
    expected = expected_all(overrides={'SM-SETUID-01': {'allowed': ['/usr/sbin/sensible-mda']}})
    ops, _notes = plan_files(['SM-SETUID-01'], expected, legacy_state(), DPKG)
    assert {op['path'] for op in ops} == {BINARY}


def test_set_group_id_fix_leaves_the_bit_another_control_judges():
    state = stock_state()
    state['paths'][BINARY].update(group='root', mode='6755')
    ops, _notes = plan_files(['SM-SETGID-01'], expected_all(), state, DPKG)
    assert ops_summary(ops) == [('path', 'SM-SETGID-01', BINARY, 'root:smmsp 6755')]


def test_links_are_not_followed_unless_the_fix_says_so():
    state = stock_state()
    link = dict(state['paths']['/etc/mail'], type='link', link='/srv/mail', target=None)
    state['paths']['/etc/mail'] = link
    ops, _notes = plan_files(['SM-FILE-01'], expected_all(), state, DPKG)
    assert ops == [{'kind': 'refuse', 'id': 'SM-FILE-01', 'path': '/etc/mail',
                    'reason': '/etc/mail is a symbolic link (to /srv/mail); not followed: replace it by the real file'}]
    state['paths']['/etc/mail/aliases']['target'] = {'path': '/etc/aliases', 'exists': False, 'error': None}
    ops, _notes = plan_files(['SM-FILE-05'], expected_all(), state, DPKG)
    assert ops[0]['kind'] == 'refuse' and 'target is absent' in ops[0]['reason']


def test_absent_paths_are_reported_not_created():
    state = stock_state()
    state['paths']['/var/spool/mqueue-client'] = {'path': '/var/spool/mqueue-client', 'exists': False, 'error': None}
    ops, _notes = plan_files(['SM-QUEUE-02'], expected_all(), state, DPKG)
    assert [op['kind'] for op in ops] == ['refuse'] and 'is absent' in ops[0]['reason']


def test_queue_files_lose_the_bits_of_others():
    state = stock_state()
    queue = state['queue_files']['/var/spool/mqueue-client']['files']
    for name, mode in (('qfA', '0666'), ('dfA', '0660'), ('xfA', '0604')):
        queue.append({'path': '/var/spool/mqueue-client/' + name, 'exists': True, 'error': None, 'type': 'file',
                      'owner': 'smmsp', 'group': 'smmsp', 'mode': mode, 'link': None, 'target': None})
    assert 'SM-QUEUE-03' in failing(state)
    ops, _notes = plan_files(['SM-QUEUE-03'], expected_all(), state, DPKG)
    assert ops_summary(ops) == [('path', 'SM-QUEUE-03', '/var/spool/mqueue-client/qfA', 'smmsp:smmsp 0660'),
                                ('path', 'SM-QUEUE-03', '/var/spool/mqueue-client/xfA', 'smmsp:smmsp 0600')]
    assert all(op['kind'] == 'path' for op in ops)  # no statoverride for queue files


def test_manual_controls_are_notes():
    ops, notes = plan_files(['SM-TRUST-01', 'SM-PRIVDROP-01'], expected_all(), stock_state(), DPKG)
    assert ops == [] and [note['id'] for note in notes] == ['SM-TRUST-01', 'SM-PRIVDROP-01']


def test_map_files_use_the_private_mode_of_access():
    state = stock_state()
    state['paths']['/etc/mail/access.db'].update(owner='root', mode='0644')
    ops, _notes = plan_files(['SM-FILE-06'], expected_all(), state, DPKG)
    assert ops_summary(ops) == [('path', 'SM-FILE-06', '/etc/mail/access.db', 'root:smmsp 0640')]


def test_diff_entries_per_control():
    state = legacy_state()
    ops, _notes = plan_files(['SM-SETUID-01', 'SM-FILE-05'], expected_all(), state, DPKG)
    assert diff_entries(ops) == [
        {'before_header': 'SM-SETUID-01 (owner:group mode)', 'after_header': 'SM-SETUID-01 (owner:group mode)',
         'before': '%s: root:smmsp 6755\n/usr/sbin/sensible-mda: root:root 4755\n' % BINARY,
         'after': '%s: root:smmsp 2755\n/usr/sbin/sensible-mda: root:root 0755\n' % BINARY},
        {'before_header': 'SM-SETUID-01 (dpkg-statoverride)', 'after_header': 'SM-SETUID-01 (dpkg-statoverride)',
         'before': 'root smmsp 6755 %s\n' % BINARY,
         'after': 'root smmsp 2755 %s\nroot root 0755 /usr/sbin/sensible-mda\n' % BINARY},
        {'before_header': 'SM-FILE-05 (owner:group mode)', 'after_header': 'SM-FILE-05 (owner:group mode)',
         'before': '/etc/mail/aliases -> /etc/aliases: alice:alice 0644\n',
         'after': '/etc/mail/aliases -> /etc/aliases: root:alice 0644\n'},
    ]


def test_a_second_plan_after_the_fixes_is_empty():
    state = legacy_state()
    batches, _notes = plan_mc(LEGACY_FAILS, expected_all(), state)
    state2 = after_mc(state, batches)
    ops, _notes = plan_files(failing(state2), expected_all(), state2, DPKG, runas_changed=True)
    for op in ops:
        if op['kind'] == 'path':
            if not int(op['after']['mode'], 8) & 0o4000:
                state2['setid_files'] = [item for item in state2['setid_files'] if item['path'] != op['path']]
            entry = state2['paths'].get(op['path'])
            if entry is not None:
                (entry['target'] if op.get('target') else entry).update(op['after'])
        elif op['kind'] == 'statoverride':
            owner, group, mode = op['after'].split()
            state2['statoverrides'] = [e for e in state2['statoverrides'] if e['path'] != op['path']]
            state2['statoverrides'].append({'owner': owner, 'group': group, 'mode': mode, 'path': op['path']})
    assert failing(state2) == []
    assert plan_mc(failing(state2), expected_all(), state2) == ([], [])
    assert plan_files(failing(state2), expected_all(), state2, DPKG) == ([], [])
