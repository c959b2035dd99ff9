# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SM-RELAY-02: where the daemons listen, on a host declared not a relay; the .mc and .cf edits that move
them to loopback, and the MSP that must not lose its MTA."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import parse_cf, settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cfedit import option_values, set_repeated
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, CONTROLS, expected_for, override_errors
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import evaluate_control
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan_listen import (
    address, built_problems, family, is_loopback, loopback_value, msp_host_problem, problem,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_mc import daemon_values, parse_mc, set_daemons
from ansible_collections.mailsec.sendmail.plugins.module_utils._plan import changed_ids, listen_steps
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__judge import config, read, stock_state

DECLARED = {'not_a_relay': True}
EVERYWHERE = 'Family=inet,  Name=MTA-v4, Port=smtp'


def expected_all(override=None):
    return {c['id']: expected_for(c, 'Debian', override if c['id'] == 'SM-RELAY-02' else None) for c in CONTROLS}


def with_daemons(state, values, mta_host='[127.0.0.1]'):
    """The stock fixture with its DaemonPortOptions lines replaced by ``values`` (and submit.cf's {MTAHost})."""
    state = copy.deepcopy(state)
    text = read('bookworm', 'sendmail.cf')
    state['configs']['mta'] = config('bookworm', 'sendmail.cf', set_repeated(text, 'DaemonPortOptions', values))
    submit = read('bookworm', 'submit.cf').replace('D{MTAHost}[127.0.0.1]', 'D{MTAHost}%s' % mta_host)
    state['configs']['msp'] = config('bookworm', 'submit.cf', submit)
    return state


def judge(state, declared=True):
    control = BY_ID['SM-RELAY-02']
    return evaluate_control(control, expected_for(control, 'Debian', DECLARED if declared else None), state)


def test_keys_are_read_by_their_first_letter_as_sendmail_does():
    assert address('Name=MTA, A=192.0.2.1') == '192.0.2.1'
    assert address('Name=MTA, Address=10.0.0.1, addr=127.0.0.1') == '127.0.0.1'
    assert address(EVERYWHERE) is None
    assert family('Name=MTA') == 'inet' and family('Family=inet6, Name=MTA-v6') == 'inet6'


@pytest.mark.parametrize('host, loopback', [
    ('127.0.0.1', True), ('127.1.2.3', True), ('::1', True), ('[127.0.0.1]', True), ('[IPv6:::1]', True), ('localhost', True),
    ('[localhost]', True), ('0.0.0.0', False), ('192.0.2.1', False), ('mail.example.org', False), ('', False), (None, False),
])
def test_loopback_addresses_and_names(host, loopback):
    assert is_loopback(host) is loopback


def test_a_daemon_without_addr_listens_everywhere_and_a_local_socket_nowhere():
    assert problem(EVERYWHERE) == 'MTA-v4 listens on every inet address'
    assert problem('Name=MTA-v6, Family=inet6, Addr=2001:db8::25') == 'MTA-v6 listens on 2001:db8::25'
    assert problem('Family=inet, Name=MTA-v4, Port=smtp, Addr=127.0.0.1') is None
    assert problem('Family=local, Name=Sock, Addr=/run/sendmail.sock') is None


def test_loopback_value_keeps_every_other_pair():
    assert loopback_value(EVERYWHERE) == EVERYWHERE + ', Addr=127.0.0.1'
    assert loopback_value('Name=MTA, A=192.0.2.1, M=E') == 'Name=MTA, A=127.0.0.1, M=E'
    assert loopback_value('Family=inet6, Name=MTA-v6, Addr=::') == 'Family=inet6, Name=MTA-v6, Addr=::1'
    same = 'Family=inet,  Name=MSP-v4, Port=submission, M=Ea, Addr=127.0.0.1'
    assert loopback_value(same) == same


def test_the_msp_must_submit_to_loopback():
    assert msp_host_problem('[127.0.0.1]', True) is None
    assert msp_host_problem(None, True) is None, "FEATURE(`msp') without an argument submits to [localhost]"
    assert msp_host_problem('[192.0.2.7]', False) is None, 'no MSP, nobody to lose the MTA'
    assert '[192.0.2.7]' in msp_host_problem('[192.0.2.7]', True)


def test_submit_cf_macro_is_read():
    assert settings(parse_cf(read('bookworm', 'submit.cf')))['MTAHost'] == '[127.0.0.1]'


def test_not_applicable_unless_declared_and_debian_passes_when_declared():
    assert judge(stock_state(), declared=False)['status'] == 'not_applicable'
    result = judge(stock_state())
    assert result['status'] == 'pass'
    assert 'DaemonPortOptions=Family=inet,  Name=MTA-v4, Port=smtp, Addr=127.0.0.1' in result['evidence']
    assert '{MTAHost} [127.0.0.1]' in result['evidence']


def test_a_daemon_on_every_address_fails_and_no_daemon_line_is_sendmails_default():
    found = judge(with_daemons(stock_state(), [EVERYWHERE, 'Family=inet, Name=MSP-v4, Port=submission, Addr=127.0.0.1']))
    assert found['status'] == 'fail' and found['actual'] == 'MTA-v4 listens on every inet address'
    state = stock_state()
    state['configs']['mta'] = config('bookworm', 'sendmail.cf', '\n'.join(
        line for line in read('bookworm', 'sendmail.cf').splitlines() if not line.startswith('O DaemonPortOptions')))
    assert judge(state)['actual'] == 'MTA listens on every inet address'


def test_the_override_is_a_boolean():
    assert override_errors({'SM-RELAY-02': {'not_a_relay': True}}) == []
    assert override_errors({'SM-RELAY-02': {'not_a_relay': 'yes'}}) == ['expected.SM-RELAY-02.not_a_relay must be true or false']


def test_plan_moves_each_daemon_and_nothing_when_all_are_on_loopback():
    state = with_daemons(stock_state(), [EVERYWHERE, 'Family=inet6, Name=MTA-v6, Port=smtp'])
    steps, notes = listen_steps(['SM-RELAY-02'], expected_all(DECLARED), state)
    assert notes == [] and changed_ids(steps) == ['SM-RELAY-02']
    assert steps[0]['kind'] == 'cf_listen' and steps[0]['phase'] == 'config' and steps[0]['config'] == 'mta'
    assert steps[0]['after'] == [EVERYWHERE + ', Addr=127.0.0.1', 'Family=inet6, Name=MTA-v6, Port=smtp, Addr=::1']
    assert listen_steps(['SM-RELAY-02'], expected_all(DECLARED), stock_state()) == ([], [])


def test_plan_leaves_the_daemons_where_the_msp_submits_elsewhere():
    state = with_daemons(stock_state(), [EVERYWHERE], mta_host='[192.0.2.7]')
    steps, notes = listen_steps(['SM-RELAY-02'], expected_all(DECLARED), state)
    assert steps == [] and len(notes) == 1 and notes[0]['kind'] == 'manual'
    assert 'the MSP submits to [192.0.2.7]' in notes[0]['why']


def test_mc_daemons_move_in_place_and_other_lines_stay():
    mc = read('bookworm', 'sendmail.mc').replace(", Port=smtp, Addr=127.0.0.1')", ", Port=smtp')")
    new = set_daemons(mc, loopback_value)
    assert daemon_values(new) == ['Family=inet,  Name=MTA-v4, Port=smtp, Addr=127.0.0.1',
                                  'Family=inet,  Name=MSP-v4, Port=submission, M=Ea, Addr=127.0.0.1']
    assert new == read('bookworm', 'sendmail.mc'), 'only the one argument changed'
    assert "dnl DAEMON_OPTIONS(`Family=inet6, Name=MTA-v6, Port=smtp, Addr=::1')dnl" in new, 'a dnl line is no call'
    assert set_daemons(new, loopback_value) == new


def test_mc_without_daemons_gets_m4s_defaults_written_out():
    mc = "include(`../m4/cf.m4')dnl\nOSTYPE(`debian')dnl\nMAILER(`local')dnl\n"
    defaults = ['Name=MTA', 'Port=587, Name=MSA, M=E']
    new = set_daemons(mc, loopback_value, defaults)
    assert daemon_values(new) == ['Name=MTA, Addr=127.0.0.1', 'Port=587, Name=MSA, M=E, Addr=127.0.0.1']
    assert 'no_default_msa' in parse_mc(new)['features']
    assert new.index('DAEMON_OPTIONS') < new.index('MAILER(')


def test_cf_lines_are_edited_in_place_one_for_one():
    text = 'V10/Berkeley\nO DaemonPortOptions=%s\nO LogLevel=9\nO DaemonPortOptions=Name=MSA, Port=587\n' % EVERYWHERE
    new = set_repeated(text, 'DaemonPortOptions', [EVERYWHERE + ', Addr=127.0.0.1', 'Name=MSA, Port=587, Addr=127.0.0.1'])
    assert new == ('V10/Berkeley\nO DaemonPortOptions=%s, Addr=127.0.0.1\nO LogLevel=9\n'
                   'O DaemonPortOptions=Name=MSA, Port=587, Addr=127.0.0.1\n' % EVERYWHERE)
    assert set_repeated(new, 'DaemonPortOptions', option_values(new, 'DaemonPortOptions')) == new
    bare = set_repeated('V10/Berkeley\nO LogLevel=9\n', 'DaemonPortOptions', ['Name=MTA, Addr=127.0.0.1'])
    assert bare == 'V10/Berkeley\nO LogLevel=9\nO DaemonPortOptions=Name=MTA, Addr=127.0.0.1\n'
    fewer = set_repeated(text, 'DaemonPortOptions', ['Name=MTA, Addr=127.0.0.1'])
    assert option_values(fewer, 'DaemonPortOptions') == ['Name=MTA, Addr=127.0.0.1'] and 'O LogLevel=9' in fewer


def test_a_new_cf_whose_daemons_would_not_do_is_named():
    good = ['Family=inet,  Name=MTA-v4, Port=smtp, Addr=127.0.0.1', 'Family=inet, Name=MSP-v4, Port=submission, Addr=127.0.0.1']
    assert built_problems(good, False, '[127.0.0.1]', True) == []
    twice = good + ['Name=MTA, Addr=127.0.0.1']
    assert built_problems(twice, False, '[127.0.0.1]', True) == ['MTA-v4 and MTA would both bind 127.0.0.1 port 25']
    six = ['Family=inet6, Name=MTA-v6, Port=smtp, Addr=::1']
    assert built_problems(six, True, '[IPv6:::1]', True) == []
    assert built_problems(six, False, '[IPv6:::1]', True) == ['this host has no ::1 for its inet6 daemons to listen on']
    assert built_problems(six, True, '[127.0.0.1]', True) == [
        "no inet daemon on port 25 would take the MSP's mail (it submits to [127.0.0.1])"]
    assert built_problems([EVERYWHERE], True, None, False) == ['MTA-v4 listens on every inet address']


def test_an_item_without_equals_is_skipped_as_sendmail_does():
    assert address('Name=MTA, Addr=127.0.0.1, Addr') == '127.0.0.1'
