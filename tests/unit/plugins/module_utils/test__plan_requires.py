# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What one control's fix needs of another's (the catalogue's REQUIRES), judged on plans built from the
Debian fixtures: the needed fix taken too, or the fix that needs it held back."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, CONTROLS, REQUIRES, fix_actions
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import APPLIED, file_steps, option_steps, ordered
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan_requires import (
    KEYS, PATH_KINDS, after_steps, closure, first, required_ids, settle, unavailable,
)
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__judge import (
    BINARY, legacy_state, setid, stock_state,
)
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__plan import (
    DPKG, KEY, after_options, expected_all, summary, with_tls_key,
)

TAKEN_SETGID = ('SM-SETGID-01 taken too: dropping the set-user-id bit of %s needs its set-group-id smmsp for mail '
                'submission' % BINARY)
TAKEN_QUEUE = ('SM-QUEUE-01 taken too: the MTA runs as smmta once RunAsUser is set, and must own its queue '
               '/var/spool/mqueue')


def setuid_binary(state, group='smmsp', mode='4755', pinned=None):
    """The sendmail binary set-user-id root (and not set-group-id), as some hosts have it."""
    state['paths'][BINARY].update(group=group, mode=mode)
    state['setid_files'][0] = setid(BINARY, 'root', group, mode)
    state['statoverrides'] = [item for item in state['statoverrides'] if item['path'] != BINARY]
    if pinned:
        owner, group, mode = pinned.split()
        state['statoverrides'].append({'owner': owner, 'group': group, 'mode': mode, 'path': BINARY})
    return state


def plan(state, ids, expected=None):
    """The path plan of ``ids`` as the engine builds it, and the state it leaves: (applied steps, before, after)."""
    expected = expected or expected_all()
    options, _notes = option_steps(ids, expected, state)
    predicted = after_options(state, options) if options else state
    for key in state['layout'].get('tls_keys') or []:  # the fixtures' .cf name no key: carried over as with_tls_key set it
        predicted = with_tls_key(predicted, key)
        predicted['paths'][key] = dict(state['paths'][key])
    runas = any(item['option'] == 'RunAsUser' for item in options)
    steps = file_steps(ids, expected, predicted, DPKG, runas_changed=runas) + options
    applied = ordered([item for item in steps if item['kind'] in APPLIED])
    return applied, after_steps(predicted, applied)


def decide(state, ids, lacking=None):
    applied, after = plan(state, ids)
    return settle(ids, applied, state, after, expected_all(), lacking or {})


# --- the table -------------------------------------------------------------------------------------------


def test_every_requirement_ties_catalogue_controls_whose_fix_is_paths():
    """Each id is a control; the needed control is judged on a path specification and fixed by path steps, so
    that taking it re-plans owners and modes only; its keys are keys of that specification."""
    assert REQUIRES
    for control_id, requirements in REQUIRES.items():
        assert control_id in BY_ID and requirements
        for requirement in requirements:
            assert {'id', 'keys', 'why'} <= set(requirement) <= {'id', 'keys', 'why', 'always'}
            needed = BY_ID[requirement['id']]
            assert needed['id'] != control_id
            assert needed['evaluator'] == 'path_set'
            assert requirement['keys'] and set(requirement['keys']) <= set(KEYS)
            assert all(key in needed['expected']['default'] for key in requirement['keys'])
            assert {action['kind'] for action in fix_actions(needed, expected_all()[needed['id']])} <= {'path_attributes'}
            assert requirement['why'].format(path='/p', owner='u', group='g')
            assert control_id not in closure([requirement['id']])  # no circle
    assert required_ids() == sorted({item['id'] for items in REQUIRES.values() for item in items},
                                    key=[c['id'] for c in CONTROLS].index)


def test_closure_and_order():
    assert closure(['SM-SETUID-01', 'SM-FILE-01']) == ['SM-SETGID-01']
    assert closure(['SM-RUNAS-01', 'SM-SETUID-01']) == ['SM-SETGID-01', 'SM-QUEUE-01', 'SM-TLS-01']
    assert closure(['SM-SETUID-01', 'SM-SETGID-01']) == []
    # A needed fix runs before the one that needs it: the binary gains set-group-id before it loses set-user-id.
    assert first(['SM-RUNAS-01', 'SM-SETUID-01', 'SM-SETGID-01', 'SM-QUEUE-01']) == [
        'SM-SETGID-01', 'SM-SETUID-01', 'SM-QUEUE-01', 'SM-RUNAS-01']
    assert first(['SM-FILE-01', 'SM-SETUID-01']) == ['SM-FILE-01', 'SM-SETUID-01']


# --- dropping set-user-id needs set-group-id -------------------------------------------------------------


def test_dropping_set_user_id_takes_the_set_group_id_too():
    """A binary 4755 root:smmsp dropped to 0755 would refuse every ordinary user's submission."""
    state = setuid_binary(stock_state())
    taken, held = decide(state, ['SM-SETUID-01'])
    assert held == []
    assert taken == [{'id': 'SM-SETGID-01', 'for': 'SM-SETUID-01', 'why': TAKEN_SETGID}]
    # Taken: the set-group-id bit comes first, so that the binary never is without both.
    applied, after = plan(state, ['SM-SETUID-01', 'SM-SETGID-01'])
    assert summary(applied) == [
        ('path', 'paths', 'SM-SETGID-01', BINARY, 'root:smmsp 6755'),
        ('path', 'paths', 'SM-SETUID-01', BINARY, 'root:smmsp 2755'),
        ('path', 'paths', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root:root 0755'),
        ('statoverride', 'pins', 'SM-SETUID-01', BINARY, 'root smmsp 2755'),
        ('statoverride', 'pins', 'SM-SETUID-01', '/usr/sbin/sensible-mda', 'root root 0755'),
    ]
    assert settle(['SM-SETUID-01', 'SM-SETGID-01'], applied, state, after, expected_all(), {}) == ([], [])


def test_a_binary_that_keeps_its_set_group_id_needs_nothing_more():
    assert decide(legacy_state(), ['SM-SETUID-01']) == ([], [])  # 6755 root:smmsp dropped to 2755
    # Not set-group-id, but the plan does not touch it: only sensible-mda loses its bit.
    state = stock_state()
    state['paths'][BINARY].update(mode='0755')
    state['setid_files'] = state['setid_files'][1:]
    assert decide(state, ['SM-SETUID-01']) == ([], [])
    # The wrong group: it would keep no group that can write the client queue.
    taken, _held = decide(setuid_binary(stock_state(), group='root'), ['SM-SETUID-01'])
    assert [item['id'] for item in taken] == ['SM-SETGID-01']


def test_a_pin_follows_the_mode_the_plan_leaves():
    """A binary pinned 4755: the pin becomes what the file is left at, set-group-id kept, not 0755."""
    state = setuid_binary(stock_state(), pinned='root smmsp 4755')
    applied, _after = plan(state, ['SM-SETUID-01', 'SM-SETGID-01'])
    assert [(item['target'], item['before'], item['after']) for item in applied if item['kind'] == 'statoverride'][0] == (
        BINARY, 'root smmsp 4755', 'root smmsp 2755')


def test_a_needed_fix_left_out_holds_back_only_the_steps_that_need_it():
    state = setuid_binary(stock_state())
    lacking = {'SM-SETGID-01': 'SM-SETGID-01 is excluded (exclude: setgid)'}
    taken, held = decide(state, ['SM-SETUID-01'], lacking)
    assert taken == []
    (hold,) = held
    assert (hold['id'], hold['requires'], hold['paths'], hold['whole']) == ('SM-SETUID-01', 'SM-SETGID-01', [BINARY], False)
    assert hold['why'] == ('held back: dropping the set-user-id bit of %s needs its set-group-id smmsp for mail submission, '
                           'and SM-SETGID-01 is excluded (exclude: setgid)' % BINARY)
    # The binary's own steps (its mode and its pin) wait; sensible-mda loses its bit all the same.
    assert [(item['kind'], item['target']) for item in hold['steps']] == [('path', BINARY), ('statoverride', BINARY)]
    assert {item['kind'] for item in hold['steps']} <= set(PATH_KINDS)


def test_a_needed_fix_that_cannot_be_made_holds_back_too():
    """The needed control is planned but its fix leaves the path as it was (here: not planned at all)."""
    state = setuid_binary(stock_state())
    applied, after = plan(state, ['SM-SETUID-01'])
    _taken, (hold,) = settle(['SM-SETUID-01', 'SM-SETGID-01'], applied, state, after, expected_all(), {})
    assert hold['why'].endswith("and SM-SETGID-01's fix does not give it here")


# --- RunAsUser needs its queue ---------------------------------------------------------------------------


def test_run_as_user_takes_the_queue_it_will_run_in():
    state = legacy_state()  # /var/spool/mqueue root:smmsp 0777: the MTA as smmta could not use it
    taken, held = decide(state, ['SM-RUNAS-01'])
    assert held == [] and taken == [{'id': 'SM-QUEUE-01', 'for': 'SM-RUNAS-01', 'why': TAKEN_QUEUE}]
    applied, after = plan(state, ['SM-RUNAS-01', 'SM-QUEUE-01'])
    assert ('path', 'handover', 'SM-QUEUE-01', '/var/spool/mqueue', 'smmta:smmsp 0700') in summary(applied)
    assert settle(['SM-RUNAS-01', 'SM-QUEUE-01'], applied, state, after, expected_all(), {}) == ([], [])


def test_a_queue_the_run_as_user_owns_already_needs_nothing():
    assert decide(stock_state(), ['SM-RUNAS-01']) == ([], [])  # Debian's queue is smmta's
    # A queue that passes before (root's, 0700) fails once RunAsUser names smmta: taken although it passed.
    state = stock_state()
    state['paths']['/var/spool/mqueue'].update(owner='root', mode='0700')
    assert [item['id'] for item in decide(state, ['SM-RUNAS-01'])[0]] == ['SM-QUEUE-01']


def test_run_as_user_is_held_back_whole_where_its_queue_is_left_out():
    lacking = {'SM-QUEUE-01': 'SM-QUEUE-01 is waived until 2027-06-30: the archive reads the queue'}
    taken, (hold,) = decide(legacy_state(), ['SM-RUNAS-01'], lacking)
    assert taken == [] and hold['whole'] is True and hold['paths'] == ['/var/spool/mqueue']
    assert [item['kind'] for item in hold['steps']] == ['cf_option']
    assert hold['why'] == ('held back: the MTA runs as smmta once RunAsUser is set, and must own its queue /var/spool/mqueue, '
                           'and SM-QUEUE-01 is waived until 2027-06-30: the archive reads the queue')


# --- what the user left out --------------------------------------------------------------------------------

TODAY = datetime.date(2026, 1, 15)


@pytest.mark.parametrize('exclude, waivers, family, said', [
    ([], [], 'Debian', None),
    (['SM-SETGID-01'], [], 'Debian', 'SM-SETGID-01 is excluded (exclude: SM-SETGID-01)'),
    (['privilege', 'setgid'], [], 'Debian', 'SM-SETGID-01 is excluded (exclude: privilege, setgid)'),
    ([], [{'id': 'SM-SETGID-01', 'hosts': 'mail*', 'reason': 'vendor build', 'expires': '2026-06-30'}], 'Debian',
     'SM-SETGID-01 is waived until 2026-06-30: vendor build'),
    ([], [{'id': 'SM-SETGID-01', 'hosts': '*', 'reason': 'vendor build', 'expires': None}], 'Debian',
     'SM-SETGID-01 is waived: vendor build'),
    ([], [{'id': 'SM-SETGID-01', 'hosts': 'relay*', 'reason': 'vendor build', 'expires': None}], 'Debian', None),
    ([], [{'id': 'SM-SETGID-01', 'hosts': '*', 'reason': 'vendor build', 'expires': '2026-01-14'}], 'Debian', None),
])
def test_unavailable_says_why_a_needed_fix_cannot_be_taken(exclude, waivers, family, said):
    found = unavailable(exclude, waivers, 'mail1', TODAY, family)
    assert found.get('SM-SETGID-01') == said
    assert set(found) <= set(required_ids())


# --- a stricter DontBlameSendmail, or RunAsUser, needs a STARTTLS key sendmail accepts --------------------


def test_dontblamesendmail_safe_takes_the_key_along():
    """Debian's key is root:smmsp 0640, accepted through GroupReadableKeyFile, which safe takes away."""
    taken, held = decide(with_tls_key(stock_state()), ['SM-SAFE-01'])
    assert held == [] and [(item['id'], item['for']) for item in taken] == [('SM-TLS-01', 'SM-SAFE-01')]
    assert 'refuses the STARTTLS key %s' % KEY in taken[0]['why']


def test_run_as_user_takes_the_key_along():
    state = with_tls_key(stock_state())
    state['paths'][KEY].update(mode='0600')
    state['paths']['/var/spool/mqueue'].update(owner='smmta')
    taken, held = decide(state, ['SM-RUNAS-01'])
    assert held == [] and ('SM-TLS-01', 'SM-RUNAS-01') in [(item['id'], item['for']) for item in taken]
    assert 'reads its STARTTLS key %s as smmta' % KEY in [item['why'] for item in taken if item['id'] == 'SM-TLS-01'][0]


def test_a_key_left_out_holds_dontblamesendmail_back():
    state = with_tls_key(stock_state())
    taken, held = decide(state, ['SM-SAFE-01'], lacking={'SM-TLS-01': 'SM-TLS-01 is excluded (exclude: tls)'})
    assert taken == [] and [(item['id'], item['requires'], item['whole']) for item in held] == [
        ('SM-SAFE-01', 'SM-TLS-01', True)]
    assert held[0]['why'].endswith('and SM-TLS-01 is excluded (exclude: tls)')
    # Without a key nothing is needed.
    assert decide(stock_state(), ['SM-SAFE-01']) == ([], [])
