# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The hardening plan: state + findings -> ordered steps, on states built from the Debian fixtures
(the stock and legacy hosts of test__judge, measured on lab hosts)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import compare, set_option
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, CONTROLS, PRIVACY_FULL, expected_for
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import evaluate
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_mc import parse_mc
from ansible_collections.mailsec.sendmail.plugins.module_utils._apply_kinds import diff_entries
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import (
    PHASES, PlanError, account_errors, attributes_text, changed_ids, choose_source, failing_ids, file_steps,
    manual_steps, map_steps, name_errors, option_steps, options_by_config, ordered, pending_define, pending_said, predict_state,
    runas_breaks, runas_gate,
)
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__judge import (
    ACCOUNTS, BINARY, LEGACY_FAILS, STOCK_FAILS, TODAY, entry, legacy_state, read, stock_state,
)

# The privilege model's controls: the plans below are about them (the SMTP-level ones have tests of their own).
PRIVILEGE_FAMILIES = ('privilege', 'files', 'queue', 'safety')
LEGACY_PRIVILEGE = [i for i in LEGACY_FAILS if BY_ID[i]['family'] in PRIVILEGE_FAMILIES]
STOCK_PRIVILEGE = [i for i in STOCK_FAILS if BY_ID[i]['family'] in PRIVILEGE_FAMILIES]

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


def after_options(state, steps):
    """The state once the option steps are in the .cf files (what the engine predicts)."""
    texts = {}
    for config, options in options_by_config(steps).items():
        text = read(state['os']['release'], 'sendmail.cf' if config == 'mta' else 'submit.cf')
        texts[config] = text + ''.join('O %s=%s\n' % item for item in options.items())
    return predict_state(state, texts, lookup_account, no_lstat)


def summary(steps):
    return [(s['kind'], s['phase'], s['id'], s['target'], attributes_text(s['after']) if s['kind'] == 'path' else s.get('after'))
            for s in steps]


# --- config: options -------------------------------------------------------------------------------------


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_legacy_options_are_steps_of_sendmail_cf(release):
    state = legacy_state(release)
    assert failing(state) == LEGACY_FAILS
    steps, notes = option_steps(LEGACY_PRIVILEGE, expected_all(), state)
    assert notes == []
    assert [(s['id'], s['kind'], s['phase'], s['target'], s['option'], s['define'], s['after']) for s in steps] == [
        ('SM-RUNAS-01', 'cf_option', 'config', '/etc/mail/sendmail.cf', 'RunAsUser', 'confRUN_AS_USER', 'smmta:smmsp'),
        ('SM-SAFE-01', 'cf_option', 'config', '/etc/mail/sendmail.cf', 'DontBlameSendmail', 'confDONT_BLAME_SENDMAIL', 'safe')]
    assert steps[0]['before'] == [] and steps[1]['before'][0].startswith('GroupWritableDirPathSafe')
    assert options_by_config(steps) == {'mta': {'RunAsUser': 'smmta:smmsp', 'DontBlameSendmail': 'safe'}}


def test_options_per_config_and_controls_with_two_kinds_of_fix():
    state = stock_state()
    ids = ['SM-RUNAS-01', 'SM-MSP-01', 'SM-QUEUE-03', 'SM-SAFE-01', 'SM-SAFE-02']
    steps, notes = option_steps(ids, expected_all(overrides={'SM-SAFE-02': {'value': '/var/empty'}}), state)
    assert notes == []
    # submit.cf already says RunAsUser=smmsp: no step for SM-MSP-01
    assert options_by_config(steps) == {
        'mta': {'RunAsUser': 'smmta:smmsp', 'QueueFileMode': '0600', 'DontBlameSendmail': 'safe', 'SafeFileEnvironment': '/var/empty'}}
    state['configs']['msp']['values']['RunAsUser'] = ['root']
    steps, _notes = option_steps(['SM-MSP-01'], expected_all(), state)
    assert options_by_config(steps) == {'msp': {'RunAsUser': 'smmsp'}} and steps[0]['target'] == '/etc/mail/submit.cf'
    # path-only and manual controls give no option step
    assert option_steps(['SM-FILE-01', 'SM-TRUST-01', 'SM-PRIVDROP-01'], expected_all(), state) == ([], [])


def test_an_option_already_set_gives_no_step():
    state = stock_state()
    state['configs']['mta']['values']['RunAsUser'] = ['smmta:smmsp']
    assert option_steps(['SM-RUNAS-01'], expected_all(), state) == ([], [])


def test_a_run_as_user_without_value_is_a_manual_step():
    steps, notes = option_steps(['SM-RUNAS-01'], expected_all('FreeBSD'), stock_state())
    assert steps == []
    assert [(n['id'], n['kind'], n['why']) for n in notes] == [
        ('SM-RUNAS-01', 'manual', 'no value to set for RunAsUser in /etc/mail/sendmail.cf: give it in expected.SM-RUNAS-01')]
    steps, notes = option_steps(['SM-RUNAS-01'], expected_all('Debian', {'SM-RUNAS-01': {'user': 'mailnull'}}), stock_state())
    assert steps[0]['after'] == 'mailnull:smmsp' and notes == []


def test_two_controls_asking_one_option_differently_fail(monkeypatch):
    action = {'kind': 'cf_option', 'config': 'mta', 'option': 'DontBlameSendmail', 'define': 'confDONT_BLAME_SENDMAIL',
              'value': 'GroupWritableAliasFile'}
    monkeypatch.setitem(BY_ID, 'SM-SAFE-02', dict(BY_ID['SM-SAFE-02'], fix_data=[action]))
    with pytest.raises(PlanError, match='SM-SAFE-02 asks DontBlameSendmail=GroupWritableAliasFile .* but SM-SAFE-01 asks safe'):
        option_steps(['SM-SAFE-01', 'SM-SAFE-02'], expected_all(), stock_state())


def test_unknown_run_as_user_or_group_is_refused_before_any_write():
    steps, _notes = option_steps(['SM-RUNAS-01'], expected_all(overrides={'SM-RUNAS-01': {'user': 'nosuch'}}), stock_state())
    assert account_errors(steps, USERS, GROUPS) == [
        'RunAsUser nosuch:smmsp for /etc/mail/sendmail.cf (SM-RUNAS-01): user nosuch does not exist on this host; '
        'create it or give another user in expected.SM-RUNAS-01']
    errors = account_errors(steps, USERS, GROUPS - {'smmsp'})
    assert len(errors) == 2 and 'group smmsp does not exist' in errors[1]
    good, _notes = option_steps(['SM-RUNAS-01'], expected_all(), stock_state())
    assert account_errors(good, USERS, GROUPS) == []


SOURCE = {'cf': '/etc/mail/sendmail.cf', 'mc': '/etc/mail/sendmail.mc', 'buildable': True, 'reason': None, 'error': None,
          'only_installed': [], 'only_built': []}


def test_auto_rebuilds_only_where_the_cf_is_what_its_mc_builds():
    assert choose_source('auto', SOURCE) == 'mc'
    assert choose_source('auto', dict(SOURCE, only_installed=[{'line': 3, 'text': 'O MaxMessageSize=5'}])) == 'cf'
    assert choose_source('auto', dict(SOURCE, only_built=[{'line': 3, 'text': 'O MaxMessageSize=5'}])) == 'cf'
    assert choose_source('auto', dict(SOURCE, buildable=False, reason='m4 is not installed')) == 'cf'
    assert choose_source('cf', SOURCE) == 'cf'


def test_mc_refuses_a_rebuild_that_drops_lines_or_cannot_be_made():
    dropped = dict(SOURCE, only_installed=[{'line': 120, 'text': 'O MaxMessageSize=5000000'}])
    with pytest.raises(PlanError, match=r'would drop these lines of it: 120: O MaxMessageSize=5000000; carry them into the \.mc'):
        choose_source('mc', dropped)
    with pytest.raises(PlanError, match='cf_source is mc but m4 is not installed'):
        choose_source('mc', dict(SOURCE, buildable=False, reason='m4 is not installed'))
    assert choose_source('mc', dict(SOURCE, only_built=[{'line': 3, 'text': 'O X=1'}])) == 'mc'


# --- config: a define the .mc holds and the .cf does not yet -------------------------------------------

LIMITS = ['SM-DOS-01']
MESSAGE_SIZE = {'kind': 'cf_option', 'config': 'mta', 'option': 'MaxMessageSize', 'define': 'confMAX_MESSAGE_SIZE'}


def pending_state(define=None, option=None, value=None, built=True, release='bookworm'):
    """A stock host as read: its sendmail.mc's defines (Debian's, which the .cf holds), and, where given, ``define``
    appended to it with ``value`` and not built since: m4 would write ``option`` with it, the .cf does not have it."""
    installed = read(release, 'sendmail.cf')
    text = set_option(installed, option, value) if define else installed
    state = stock_state(release)
    found = state['cf_sources']['mta']
    found['defines'] = dict(parse_mc(read(release, 'sendmail.mc'))['defines'], **({define: value} if define else {}))
    if built:
        found.update(built=text, **compare(installed, text))
    else:
        found.update(buildable=False, reason='m4 is not installed: nothing on this host rebuilds it')
    return state


def by_option(steps):
    return {item['option']: item for item in steps}


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_debians_own_defines_are_not_pending(release):
    """The .cf is what the .mc builds: its defines are decisions already in force, set as ever."""
    state = pending_state(release=release)
    assert pending_define(state, MESSAGE_SIZE) is None
    steps, _notes = option_steps(['SM-SMTP-01'] + LIMITS, expected_all(), state)
    assert [item for item in steps if 'pending' in item] == []
    assert options_by_config(steps, 'define')['mta']['confPRIVACY_FLAGS'] == ','.join(PRIVACY_FULL)


def test_a_pending_stricter_define_survives():
    """define(`confMAX_MESSAGE_SIZE',`5000000') appended to the .mc, not built: the .cf (unset, no limit) gets the
    bound in place, the .mc keeps the administrator's value for the next rebuild, and the step says so."""
    state = pending_state('confMAX_MESSAGE_SIZE', 'MaxMessageSize', '5000000')
    assert pending_define(state, MESSAGE_SIZE) == {'mc': '/etc/mail/sendmail.mc', 'define': 'confMAX_MESSAGE_SIZE',
                                                   'values': ['5000000']}
    steps, notes = option_steps(LIMITS, expected_all(), state)
    size = by_option(steps)['MaxMessageSize']
    assert (size['before'], size['after']) == ([], '26214400') and notes == []
    assert size['pending'] == {'mc': '/etc/mail/sendmail.mc', 'define': 'confMAX_MESSAGE_SIZE', 'value': '5000000', 'kept': True,
                               'built': False}
    assert size['why'] == ("MaxMessageSize is unset; /etc/mail/sendmail.mc's define confMAX_MESSAGE_SIZE 5000000, not built yet, "
                           'meets SM-DOS-01: kept there for the next rebuild')
    defines = options_by_config(steps, 'define')['mta']
    assert 'confMAX_MESSAGE_SIZE' not in defines and defines['confMAX_DAEMON_CHILDREN'] == '40'
    assert options_by_config(steps)['mta']['MaxMessageSize'] == '26214400'  # the .cf edited in place gets the bound
    assert 'pending' not in by_option(steps)['MaxDaemonChildren']
    assert pending_said(steps) == '; defines pending in sendmail.mc: confMAX_MESSAGE_SIZE 5000000 kept'


def test_a_pending_define_rebuilt_on_purpose_is_what_the_cf_gets():
    """cf_source mc rebuilds the .cf from the .mc as it is: the step sets what the define builds."""
    state = pending_state('confMAX_MESSAGE_SIZE', 'MaxMessageSize', '5000000')
    steps, _notes = option_steps(LIMITS, expected_all(), state, 'mc')
    size = by_option(steps)['MaxMessageSize']
    assert size['after'] == '5000000' and size['pending']['kept'] and size['pending']['built']
    assert size['why'].endswith('meets SM-DOS-01: built as it is')
    assert 'confMAX_MESSAGE_SIZE' not in options_by_config(steps, 'define')['mta']
    assert pending_said(steps) == '; defines pending in sendmail.mc: confMAX_MESSAGE_SIZE 5000000 built'
    assert by_option(option_steps(LIMITS, expected_all(), state, 'cf')[0])['MaxMessageSize']['after'] == '26214400'


def test_a_pending_define_that_sets_no_limit_is_replaced_and_both_values_said():
    state = pending_state('confMAX_MESSAGE_SIZE', 'MaxMessageSize', '0')
    steps, notes = option_steps(LIMITS, expected_all(), state)
    size = by_option(steps)['MaxMessageSize']
    assert size['after'] == '26214400' and notes == []
    assert (size['pending']['kept'], size['pending']['value']) == (False, '0')
    assert size['why'] == ("MaxMessageSize is unset; /etc/mail/sendmail.mc's define confMAX_MESSAGE_SIZE 0, not built yet, "
                           'does not meet SM-DOS-01: replaced by 26214400')
    assert options_by_config(steps, 'define')['mta']['confMAX_MESSAGE_SIZE'] == '26214400'
    assert pending_said(steps) == '; defines pending in sendmail.mc: confMAX_MESSAGE_SIZE 0 replaced by 26214400'


def test_a_pending_limit_above_its_bound_is_the_sites_and_not_lowered():
    state = pending_state('confMAX_MESSAGE_SIZE', 'MaxMessageSize', '52428800')
    steps, notes = option_steps(LIMITS, expected_all(), state)
    assert 'MaxMessageSize' not in by_option(steps)
    assert [(n['kind'], n['id'], n['target'], n['why']) for n in notes] == [(
        'manual', 'SM-DOS-01', '/etc/mail/sendmail.mc',
        'MaxMessageSize=52428800 in /etc/mail/sendmail.mc (define confMAX_MESSAGE_SIZE, not built yet) is above 26214400: a '
        'limit the site set is not lowered here; lower it, or raise the bound in expected.SM-DOS-01')]
    raised = expected_all(overrides={'SM-DOS-01': {'max_message_size': '52428800'}})
    assert by_option(option_steps(LIMITS, raised, state)[0])['MaxMessageSize']['pending']['kept'] is True


def test_a_pending_define_is_judged_by_the_controls_evaluator():
    """The site's words beyond the required ones: the control passes with them, so they are kept, although the fix
    would write the words in another order. Too few words are replaced, the site's own word staying."""
    words = 'authwarnings,' + ','.join(PRIVACY_FULL)
    state = pending_state('confPRIVACY_FLAGS', 'PrivacyOptions', words)
    (privacy,) = option_steps(['SM-SMTP-01'], expected_all(), state)[0]
    assert privacy['after'] == ','.join(PRIVACY_FULL) and privacy['pending']['kept'] is True
    assert 'confPRIVACY_FLAGS' not in options_by_config([privacy], 'define').get('mta', {})
    state = pending_state('confPRIVACY_FLAGS', 'PrivacyOptions', 'goaway,noactualrecipient')
    (privacy,) = option_steps(['SM-SMTP-01'], expected_all(), state)[0]
    assert privacy['pending']['kept'] is False and privacy['after'] == ','.join(PRIVACY_FULL + ['noactualrecipient'])
    assert privacy['why'].endswith("define confPRIVACY_FLAGS goaway,noactualrecipient, not built yet, does not meet SM-SMTP-01: "
                                   'replaced by %s' % ','.join(PRIVACY_FULL + ['noactualrecipient']))


def test_a_pending_define_of_a_mc_nothing_builds_is_read_from_the_mc():
    state = pending_state('confMAX_MESSAGE_SIZE', 'MaxMessageSize', '5000000', built=False)
    assert pending_define(state, MESSAGE_SIZE)['values'] == ['5000000']
    steps, _notes = option_steps(LIMITS, expected_all(), state)
    assert by_option(steps)['MaxMessageSize']['pending']['kept'] is True
    assert 'confMAX_MESSAGE_SIZE' not in options_by_config(steps, 'define')['mta']


def test_a_define_the_cf_already_holds_is_no_pending_decision():
    state = pending_state('confMAX_MESSAGE_SIZE', 'MaxMessageSize', '5000000')
    state['configs']['mta']['values']['MaxMessageSize'] = ['5000000']
    assert pending_define(state, MESSAGE_SIZE) is None
    assert 'MaxMessageSize' not in by_option(option_steps(LIMITS, expected_all(), state)[0])


# --- paths, modes, statoverrides ---------------------------------------------------------------------


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_legacy_host_plan_in_dependency_order(release):
    state = legacy_state(release)
    options, _notes = option_steps(LEGACY_PRIVILEGE, expected_all(), state)
    predicted = after_options(state, options)
    files = file_steps(LEGACY_PRIVILEGE, expected_all(), predicted, DPKG, runas_changed=True)
    assert summary(ordered(files + options)) == [
        ('path', 'paths', 'SM-SETUID-01', BINARY, 'root:smmsp 2755'),
        ('path', 'paths', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root:root 0755'),
        ('path', 'paths', 'SM-FILE-01', '/etc/mail', 'root:smmsp 2755'),
        ('path', 'paths', 'SM-FILE-02', '/etc/mail/sendmail.cf', 'root:smmsp 0644'),
        ('path', 'paths', 'SM-FILE-05', '/etc/mail/aliases', 'root:alice 0644'),
        ('path', 'paths', 'SM-QUEUE-02', '/var/spool/mqueue-client', 'smmsp:smmsp 0770'),
        ('cf_option', 'config', 'SM-RUNAS-01', '/etc/mail/sendmail.cf', 'smmta:smmsp'),
        ('cf_option', 'config', 'SM-SAFE-01', '/etc/mail/sendmail.cf', 'safe'),
        # Once the .cf names smmta, the queue goes to the MTA's user with its mode (SM-QUEUE-01, which SM-RUNAS-01 needs).
        ('path', 'handover', 'SM-QUEUE-01', '/var/spool/mqueue', 'smmta:smmsp 0700'),
        ('statoverride', 'pins', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root root 0755'),
        ('statoverride', 'pins', 'SM-STATOVR-01', BINARY, 'root smmsp 2755'),
    ]
    by_target = {(s['id'], s['target']): s for s in files if s['kind'] == 'path'}
    aliases = by_target[('SM-FILE-05', '/etc/mail/aliases')]
    assert aliases['follow'] is True and aliases['resolved'] == '/etc/aliases'  # the link followed on purpose
    pin = [s for s in files if s['kind'] == 'statoverride' and s['target'] == BINARY][0]
    assert (pin['before'], pin['after'], pin['remove']) == ('root smmsp 6755', 'root smmsp 2755', True)
    mda_pin = [s for s in files if s['kind'] == 'statoverride' and s['target'] == '/usr/sbin/sensible-mda'][0]
    assert (mda_pin['before'], mda_pin['remove']) == (None, False)
    assert [s['phase'] for s in ordered(files + options)] == sorted((s['phase'] for s in files + options), key=PHASES.index)
    assert changed_ids(files + options) == sorted(LEGACY_PRIVILEGE)


def test_stock_host_only_the_mode_of_a_queue_smmta_already_owns():
    state = stock_state()
    assert failing(state) == STOCK_FAILS
    options, _notes = option_steps(STOCK_PRIVILEGE, expected_all(), state)
    files = file_steps(STOCK_PRIVILEGE, expected_all(), after_options(state, options), DPKG, runas_changed=True)
    assert summary(files) == [
        ('path', 'paths', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root:root 0755'),
        ('statoverride', 'pins', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root root 0755'),
        ('path', 'paths', 'SM-FILE-01', '/etc/mail', 'root:smmsp 2755'),
        ('path', 'handover', 'SM-QUEUE-01', '/var/spool/mqueue', 'smmta:smmsp 0700'),
    ]


def queued(state, path, owner='root', mode='0600', kind='file'):
    """A file (or qf/df/xf subdirectory) in the MTA queue's listing."""
    listing = state['queue_files']['/var/spool/mqueue']
    listing.setdefault('dirs', [])
    listing['dirs' if kind == 'dir' else 'files'].append(
        {'path': path, 'exists': True, 'error': None, 'type': kind, 'owner': owner, 'group': 'smmsp', 'mode': mode,
         'link': None, 'target': None})


def test_queued_files_go_to_the_new_run_as_user_before_their_queue():
    """SM-RUNAS-01 hands over what is queued (its check reads the queued files); the queue itself is SM-QUEUE-01's,
    which the engine takes with it (see test__plan_requires), after what is in it."""
    state = stock_state()
    state['paths']['/var/spool/mqueue'].update(owner='root')
    queued(state, '/var/spool/mqueue/qf', mode='0700', kind='dir')
    queued(state, '/var/spool/mqueue/qf/qfA')
    options, _notes = option_steps(['SM-RUNAS-01'], expected_all(), state)
    files = file_steps(['SM-RUNAS-01'], expected_all(), after_options(state, options), DPKG, runas_changed=True)
    assert summary(files) == [('path', 'handover', 'SM-RUNAS-01', '/var/spool/mqueue/qf/qfA', 'smmta:smmsp 0600'),
                              ('path', 'handover', 'SM-RUNAS-01', '/var/spool/mqueue/qf', 'smmta:smmsp 0700')]
    assert [item['set'] for item in files] == [{'owner': 'smmta'}] * 2
    files = file_steps(['SM-RUNAS-01', 'SM-QUEUE-01'], expected_all(), after_options(state, options), DPKG, runas_changed=True)
    assert summary(files)[-1] == ('path', 'handover', 'SM-QUEUE-01', '/var/spool/mqueue', 'smmta:smmsp 0700')
    assert file_steps(['SM-QUEUE-03'], expected_all(), state, DPKG) == []


def test_a_run_cut_short_after_the_config_is_resumed():
    """RunAsUser is set already but a queued file still belongs to root: SM-RUNAS-01 fails, and its
    handover is planned again although no option changes."""
    state = stock_state()
    state['configs']['mta']['settings']['RunAsUser'] = 'smmta:smmsp'
    state['configs']['mta']['values']['RunAsUser'] = ['smmta:smmsp']
    queued(state, '/var/spool/mqueue/qfA')
    found = evaluate([BY_ID['SM-RUNAS-01']], expected_all(), state, today=TODAY)[0]
    assert found['status'] == 'fail' and '/var/spool/mqueue/qfA (root)' in found['actual']
    assert option_steps(['SM-RUNAS-01'], expected_all(), state) == ([], [])
    files = file_steps(['SM-RUNAS-01'], expected_all(), state, DPKG)
    assert summary(files) == [('path', 'handover', 'SM-RUNAS-01', '/var/spool/mqueue/qfA', 'smmta:smmsp 0600')]


def test_steps_on_one_path_in_two_phases_do_not_undo_each_other():
    """A queued file others could write: its mode is fixed in the paths phase, its owner in the handover;
    each step sets only what it changes."""
    state = legacy_state()
    queued(state, '/var/spool/mqueue/qfABC', mode='0666')
    ids = LEGACY_PRIVILEGE + ['SM-QUEUE-03']
    options, _notes = option_steps(ids, expected_all(), state)
    files = [item for item in file_steps(ids, expected_all(), after_options(state, options), DPKG, runas_changed=True)
             if item['target'] == '/var/spool/mqueue/qfABC']
    assert [(item['phase'], item['id'], item['set']) for item in ordered(files)] == [
        ('paths', 'SM-QUEUE-03', {'mode': '0660'}), ('handover', 'SM-RUNAS-01', {'owner': 'smmta'})]


def test_without_run_as_user_the_queue_goes_to_root_before_the_config():
    files = file_steps(['SM-QUEUE-01'], expected_all(), stock_state(), DPKG)
    assert summary(files) == [('path', 'paths', 'SM-QUEUE-01', '/var/spool/mqueue', 'root:smmsp 0700')]


def test_statoverride_option_and_hosts_without_dpkg():
    state = legacy_state()
    files = file_steps(['SM-SETUID-01'], expected_all(), state, {'statoverride': False, 'dpkg': True})
    # No new pin for sensible-mda, but the existing pin of the binary is updated (else an upgrade undoes the fix).
    assert [(s['target'], s['after']) for s in files if s['kind'] == 'statoverride'] == [(BINARY, 'root smmsp 2755')]
    files = file_steps(['SM-SETUID-01', 'SM-STATOVR-01'], expected_all(), state, {'statoverride': True, 'dpkg': False})
    assert [s['kind'] for s in files] == ['path', 'path', 'refuse']
    assert files[2]['why'] == 'dpkg-statoverride is not available on this host'


def test_statoverride_control_alone_pins_and_fixes_the_file():
    state = legacy_state()
    files = file_steps(['SM-STATOVR-01'], expected_all(), state, DPKG)
    assert summary(files) == [('path', 'paths', 'SM-STATOVR-01', BINARY, 'root:smmsp 2755'),
                              ('statoverride', 'pins', 'SM-STATOVR-01', BINARY, 'root smmsp 2755')]
    state['statoverrides'].append({'owner': 'root', 'group': 'root', 'mode': '4755', 'path': '/usr/sbin/sensible-mda'})
    files = file_steps(['SM-STATOVR-01'], expected_all(), state, DPKG)
    assert ('statoverride', 'pins', 'SM-STATOVR-01', '/usr/sbin/sensible-mda', 'root root 0755') in summary(files)


def test_allowed_setuid_files_stay():
    expected = expected_all(overrides={'SM-SETUID-01': {'allowed': ['/usr/sbin/sensible-mda']}})
    files = file_steps(['SM-SETUID-01'], expected, legacy_state(), DPKG)
    assert {s['target'] for s in files} == {BINARY}


def test_set_group_id_fix_leaves_the_bit_another_control_judges():
    state = stock_state()
    state['paths'][BINARY].update(group='root', mode='6755')
    files = file_steps(['SM-SETGID-01'], expected_all(), state, DPKG)
    assert summary(files) == [('path', 'paths', 'SM-SETGID-01', BINARY, 'root:smmsp 6755')]


def test_links_are_not_followed_unless_the_check_follows_them():
    state = stock_state()
    state['paths']['/etc/mail'] = dict(state['paths']['/etc/mail'], type='link', link='/srv/mail', target=None)
    files = file_steps(['SM-FILE-01'], expected_all(), state, DPKG)
    assert [(s['kind'], s['id'], s['target'], s['why']) for s in files] == [
        ('refuse', 'SM-FILE-01', '/etc/mail', '/etc/mail is a symbolic link (to /srv/mail); not followed: replace it by the real file')]
    state['paths']['/etc/mail/aliases']['target'] = {'path': '/etc/aliases', 'exists': False, 'error': None}
    files = file_steps(['SM-FILE-05'], expected_all(), state, DPKG)
    assert files[0]['kind'] == 'refuse' and 'target is absent' in files[0]['why']


def test_absent_paths_are_refused_not_created():
    state = stock_state()
    state['paths']['/var/spool/mqueue-client'] = {'path': '/var/spool/mqueue-client', 'exists': False, 'error': None}
    files = file_steps(['SM-QUEUE-02'], expected_all(), state, DPKG)
    assert [s['kind'] for s in files] == ['refuse'] and 'is absent' in files[0]['why']


def test_queue_files_lose_the_bits_of_others():
    state = stock_state()
    queue = state['queue_files']['/var/spool/mqueue-client']['files']
    for name, mode in (('qfA', '0666'), ('dfA', '0660'), ('xfA', '0604')):
        queue.append({'path': '/var/spool/mqueue-client/' + name, 'exists': True, 'error': None, 'type': 'file',
                      'owner': 'smmsp', 'group': 'smmsp', 'mode': mode, 'link': None, 'target': None})
    assert 'SM-QUEUE-03' in failing(state)
    files = file_steps(['SM-QUEUE-03'], expected_all(), state, DPKG)
    assert summary(files) == [('path', 'paths', 'SM-QUEUE-03', '/var/spool/mqueue-client/qfA', 'smmsp:smmsp 0660'),
                              ('path', 'paths', 'SM-QUEUE-03', '/var/spool/mqueue-client/xfA', 'smmsp:smmsp 0600')]


def test_manual_controls_are_manual_steps_never_applied():
    assert file_steps(['SM-TRUST-01', 'SM-PRIVDROP-01', 'SM-CF-01'], expected_all(), stock_state(), DPKG) == []
    steps = manual_steps(['SM-TRUST-01', 'SM-RUNAS-01', 'SM-PRIVDROP-01', 'SM-CF-01'])
    assert [(s['id'], s['kind'], s['phase']) for s in steps] == [
        ('SM-TRUST-01', 'manual', None), ('SM-PRIVDROP-01', 'manual', None), ('SM-CF-01', 'manual', None)]
    assert changed_ids(steps) == []


def test_map_files_use_the_private_mode_of_access():
    state = stock_state()
    state['paths']['/etc/mail/access.db'].update(owner='root', mode='0644')
    files = file_steps(['SM-FILE-06'], expected_all(), state, DPKG)
    assert summary(files) == [('path', 'paths', 'SM-FILE-06', '/etc/mail/access.db', 'root:smmsp 0640')]


def test_names_a_step_would_set_must_exist():
    """An @ token that names a user the host lost is a clear error, not a traceback."""
    state = stock_state()
    state['configs']['mta']['settings']['RunAsUser'] = 'ghost'
    state['accounts']['ghost'] = None
    state['paths']['/var/spool/mqueue'].update(owner='root')
    files = file_steps(['SM-QUEUE-01'], expected_all(), state, DPKG)
    assert summary(files) == [('path', 'paths', 'SM-QUEUE-01', '/var/spool/mqueue', 'ghost:smmsp 0700')]
    assert name_errors(files, USERS, GROUPS) == [
        'SM-QUEUE-01 would give /var/spool/mqueue to user ghost, which does not exist on this host; fix expected.SM-QUEUE-01 '
        'or the option that names ghost']
    expected = expected_all(overrides={'SM-QUEUE-02': {'group': ['nogroup']}})
    state = stock_state()
    state['paths']['/var/spool/mqueue-client'].update(group='root')
    errors = name_errors(file_steps(['SM-QUEUE-02'], expected, state, DPKG), USERS, GROUPS)
    assert errors and 'group nogroup, which does not exist' in errors[0]


def test_map_rebuilds_are_upkeep_steps_first():
    stale = [{'name': 'aliases', 'source': '/etc/aliases', 'database': '/etc/aliases.db', 'class': 'aliases'}]
    steps = map_steps(stale)
    assert [(s['id'], s['kind'], s['phase'], s['target']) for s in steps] == [(None, 'map_rebuild', 'maps', '/etc/aliases.db')]
    assert changed_ids(steps) == []
    assert ordered(file_steps(['SM-QUEUE-01'], expected_all(), stock_state(), DPKG) + steps)[0]['kind'] == 'map_rebuild'


def test_diff_entries_per_control():
    files = file_steps(['SM-SETUID-01', 'SM-FILE-05'], expected_all(), legacy_state(), DPKG)
    assert diff_entries(files) == [
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
    options, _notes = option_steps(LEGACY_PRIVILEGE, expected_all(), state)
    predicted = after_options(state, options)
    files = file_steps(LEGACY_PRIVILEGE, expected_all(), predicted, DPKG, runas_changed=True)
    for item in files:
        if item['kind'] == 'path':
            if not int(item['after']['mode'], 8) & 0o4000:
                predicted['setid_files'] = [e for e in predicted['setid_files'] if e['path'] != item['target']]
            entry = predicted['paths'].get(item['target'])
            if entry is not None:
                (entry['target'] if item.get('resolved') else entry).update(item['after'])
        elif item['kind'] == 'statoverride':
            owner, group, mode = item['after'].split()
            predicted['statoverrides'] = [e for e in predicted['statoverrides'] if e['path'] != item['target']]
            predicted['statoverrides'].append({'owner': owner, 'group': group, 'mode': mode, 'path': item['target']})
    still = [i for i in failing(predicted) if i in LEGACY_PRIVILEGE]
    assert still == []
    assert option_steps(still, expected_all(), predicted) == ([], [])
    assert file_steps(still, expected_all(), predicted, DPKG) == []


def test_check_mode_reads_a_strict_cf_again_only_over_a_path_a_step_fixes():
    from ansible_collections.mailsec.sendmail.plugins.module_utils._engine import Engine
    steps = [{'kind': 'path', 'phase': 'paths', 'target': '/etc/mail'}, {'kind': 'path', 'phase': 'handover', 'target': '/var/spool'}]
    rejected = "sendmail rejected ... (exit 71: fileclass: cannot open '/etc/mail/local-host-names': Group writable directory)"
    assert Engine._fixes_a_named_path(steps, rejected) is True
    assert Engine._fixes_a_named_path(steps[1:], rejected) is False
    assert Engine._fixes_a_named_path(steps, "cannot open '/etc/mailer/x': Group writable directory") is False
    assert Engine._fixes_a_named_path(steps, 'line 3: unknown configuration line') is False


def test_a_killed_runs_runasuser_waits_for_the_queue_a_paths_step_hands_over():
    """Killed between its config and handover phases on a Red Hat host (queue root:mail 0700), the installed .cf names
    a RunAsUser that cannot enter the queue yet: the next run, whose paths phase gives it the queue, goes on."""
    from ansible_collections.mailsec.sendmail.plugins.module_utils._engine import Engine
    refused = 'exit 78: can not chdir(/var/spool/mqueue/): Permission denied'
    assert Engine._fixes_a_named_path([{'kind': 'path', 'phase': 'paths', 'target': '/var/spool/mqueue'}], refused) is True
    assert Engine._fixes_a_named_path([{'kind': 'path', 'phase': 'handover', 'target': '/var/spool/mqueue'}], refused) is False


# --- the RunAsUser gate (SM-RUNAS-02) --------------------------------------------------------------

FORWARD_ITEM = {'kind': 'forward', 'user': 'alice', 'path': '/home/alice/.forward', 'owner': 'alice', 'group': 'alice', 'mode': '0600',
                'line': '1: "|/usr/local/bin/note"', 'via': None,
                'problem': 'smmta cannot read it (/home/alice is alice:alice 0700): mail to alice goes to the mailbox instead'}


def test_run_as_user_is_held_where_deliveries_need_root_unless_forced():
    impact = {'user': 'smmta', 'set': False, 'items': [FORWARD_ITEM]}
    failing, held = runas_gate(['SM-RUNAS-01', 'SM-RUNAS-02', 'SM-QUEUE-01'], impact, force=False)
    assert failing == ['SM-RUNAS-02', 'SM-QUEUE-01']
    assert [(item['id'], item['kind']) for item in held] == [('SM-RUNAS-01', 'manual')]
    assert held[0]['why'].startswith('RunAsUser=smmta left unset: 1 delivery on this host needs root (/home/alice/.forward (alice:alice 0600)')
    assert 'sendmail_hardening_run_as_user_force' in held[0]['why']
    assert runas_gate(['SM-RUNAS-01'], impact, force=True) == (['SM-RUNAS-01'], [])
    assert runas_gate(['SM-RUNAS-01'], dict(impact, items=[]), force=False) == (['SM-RUNAS-01'], [])
    # Already set: SM-RUNAS-02 reports what is broken now; changing the user is SM-RUNAS-01's business.
    assert runas_gate(['SM-RUNAS-01'], dict(impact, set=True), force=False) == (['SM-RUNAS-01'], [])


def test_a_forced_run_as_user_lists_what_stops_working():
    impact = {'user': 'smmta', 'set': False, 'items': [FORWARD_ITEM]}
    steps, _notes = option_steps(['SM-RUNAS-01'], expected_all(), stock_state())
    assert runas_breaks(steps, impact) == [
        '/home/alice/.forward (alice:alice 0600) [1: "|/usr/local/bin/note"]: smmta cannot read it (/home/alice is alice:alice 0700): '
        'mail to alice goes to the mailbox instead']
    assert runas_breaks([], impact) == []


KEY = '/etc/mail/tls/sendmail-common.key'


def with_tls_key(state, path=KEY, owner='root', group='smmsp', mode='0640'):
    """A host set up as Debian's update_tls does: one key for server and client, group-readable by smmsp."""
    for name in ('ServerKeyFile', 'ClientKeyFile'):
        state['configs']['mta']['settings'][name] = path
    state['layout']['tls_keys'] = [path]
    state['paths'][path] = entry(path, owner, group, mode)
    return state


def test_no_key_no_tls_control():
    assert evaluate([BY_ID['SM-TLS-01']], expected_all(), stock_state(), today=TODAY)[0]['status'] == 'not_applicable'


def test_a_group_readable_key_fails_and_goes_to_root_0600_without_run_as_user():
    """DontBlameSendmail safe refuses a key others can read: without RunAsUser root keeps it, 0600."""
    state = with_tls_key(stock_state())
    found = evaluate([BY_ID['SM-TLS-01']], expected_all(), state, today=TODAY)[0]
    assert found['status'] == 'fail' and KEY in found['actual']
    files = file_steps(['SM-TLS-01'], expected_all(), state, DPKG)
    assert summary(files) == [('path', 'paths', 'SM-TLS-01', KEY, 'root:smmsp 0600')]


def test_a_new_run_as_user_gets_the_key_it_must_read_in_the_handover():
    """With RunAsUser the daemon reads its key as that user (a root-owned 0600 key turns STARTTLS off)."""
    state = with_tls_key(stock_state())
    options, _notes = option_steps(['SM-RUNAS-01', 'SM-SAFE-01'], expected_all(), state)
    predicted = with_tls_key(after_options(state, options))
    files = file_steps(['SM-RUNAS-01', 'SM-TLS-01'], expected_all(), predicted, DPKG, runas_changed=True)
    assert ('path', 'handover', 'SM-TLS-01', KEY, 'smmta:smmsp 0600') in summary(files)


def test_a_key_outside_the_configuration_directory_is_named_not_changed():
    state = with_tls_key(stock_state(), path='/etc/ssl/private/mail.key')
    files = file_steps(['SM-TLS-01'], expected_all(), state, DPKG)
    assert [(item['kind'], item['target']) for item in files] == [('refuse', '/etc/ssl/private/mail.key')]
    assert 'may serve other programs too' in files[0]['why']


def test_the_new_run_as_user_takes_what_root_owns_not_what_another_allowed_user_owns():
    """The MTA's statistics go to the RunAsUser; the submission program's (Red Hat's sm-client.st) stay smmsp's."""
    from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import _want
    spec = {'owner': ['root', '@RunAsUser', '@MSPUser'], 'group': None, 'mode': '0644'}
    owners = ['root', 'mailnull', 'smmsp']
    mta = {'owner': 'root', 'group': 'root', 'mode': '0644'}
    msp = {'owner': 'smmsp', 'group': 'smmsp', 'mode': '0660'}
    assert _want(mta, spec, owners, 'mailnull') == {'owner': 'mailnull', 'group': 'root', 'mode': '0644'}
    assert _want(msp, spec, owners, 'mailnull') == {'owner': 'smmsp', 'group': 'smmsp', 'mode': '0640'}
    assert _want(dict(msp, owner='alice'), spec, owners, 'mailnull')['owner'] == 'mailnull'
