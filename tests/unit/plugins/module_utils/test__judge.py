# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every control's pass and fail paths, on states built from the Debian fixtures.

The path table is what fresh bookworm and trixie hosts show (lstat, measured on lab hosts);
``legacy`` applies the lab's legacy profile to it.
"""

from __future__ import annotations

import copy
import datetime
import os
import re

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._aliases import entries as alias_entries
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_binary import drop_method, parse_d0
from ansible_collections.mailsec.sendmail.plugins.module_utils._text_cf import parse_cf, settings
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, CONTROLS, STATUSES, expected_for
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import (
    entry_text, evaluate, evaluate_control, find_waiver, parse_date, summarize, verdict, waiver_errors,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_host import parse_statoverride
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_state import layout

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
TODAY = datetime.date(2025, 6, 1)
BINARY = '/usr/libexec/sendmail/sendmail'
STOCK_PATHS = {
    '/': ('root', 'root', '0755', 'dir'),
    '/etc': ('root', 'root', '0755', 'dir'),
    '/etc/mail': ('smmta', 'smmsp', '2755', 'dir'),
    '/etc/mail/sendmail.cf': ('root', 'smmsp', '0644', 'file'),
    '/etc/mail/submit.cf': ('root', 'smmsp', '0644', 'file'),
    '/etc/mail/sendmail.mc': ('root', 'smmsp', '0644', 'file'),
    '/etc/mail/submit.mc': ('root', 'smmsp', '0644', 'file'),
    '/etc/aliases': ('root', 'root', '0644', 'file'),
    '/etc/mail/aliases.db': ('smmta', 'smmsp', '0640', 'file'),
    '/etc/mail/access': ('root', 'root', '0600', 'file'),
    '/etc/mail/access.db': ('smmta', 'smmsp', '0640', 'file'),
    '/etc/mail/helpfile': ('root', 'root', '0644', 'file'),
    '/etc/mail/smrsh': ('smmta', 'smmsp', '2755', 'dir'),
    '/var/spool/mqueue': ('smmta', 'smmsp', '2750', 'dir'),
    '/var/spool/mqueue-client': ('smmsp', 'smmsp', '2770', 'dir'),
    BINARY: ('root', 'smmsp', '2755', 'file'),
    '/usr/libexec/sendmail/mailstats': ('root', 'smmsp', '2755', 'file'),
}
ACCOUNTS = {
    'root': {'name': 'root', 'uid': 0, 'gid': 0, 'group': 'root'},
    'smmta': {'name': 'smmta', 'uid': 100, 'gid': 102, 'group': 'smmta'},
    'smmsp': {'name': 'smmsp', 'uid': 101, 'gid': 103, 'group': 'smmsp'},
    'alice': {'name': 'alice', 'uid': 1000, 'gid': 1000, 'group': 'alice'},
}
# What stock Debian fails beyond the privilege model: PrivacyOptions, the greeting, HELP and the limits.
STOCK_SMTP_FAILS = ['SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-ALIAS-02', 'SM-FWD-01', 'SM-PROG-01', 'SM-PROG-02', 'SM-DOS-01']
# Debian's sendmail is built with STARTTLS, and a fresh host has none configured and no protocol floor of its own.
STOCK_TRANSIT_FAILS = ['SM-TLS-03', 'SM-TLS-05']
STOCK_FAILS = ['SM-RUNAS-01', 'SM-SETUID-01', 'SM-FILE-01', 'SM-QUEUE-01', 'SM-SAFE-01'] + STOCK_SMTP_FAILS + STOCK_TRANSIT_FAILS
LEGACY_FAILS = ['SM-RUNAS-01', 'SM-SETUID-01', 'SM-STATOVR-01', 'SM-FILE-01', 'SM-FILE-02', 'SM-FILE-05', 'SM-QUEUE-01',
                'SM-QUEUE-02', 'SM-SAFE-01', 'SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-ALIAS-01', 'SM-ALIAS-02',
                'SM-ALIAS-03', 'SM-FWD-01', 'SM-PROG-01', 'SM-PROG-02', 'SM-PROG-03', 'SM-LOG-01', 'SM-LOG-02', 'SM-DOS-01',
                'SM-RELAY-01'] + STOCK_TRANSIT_FAILS
LEGACY_DONT_BLAME = ('GroupWritableDirPathSafe,GroupWritableAliasFile,GroupWritableForwardFileSafe,GroupWritableIncludeFileSafe,'
                     'ForwardFileInGroupWritableDirPath,IncludeFileInGroupWritableDirPath,AssumeSafeChown,TrustStickyBit')


def read(release, name):
    with open(os.path.join(FIXTURES, release, name), encoding='utf-8') as handle:
        return handle.read()


def entry(path, owner, group, mode, kind='file'):
    return {'path': path, 'exists': True, 'error': None, 'type': kind, 'owner': owner, 'group': group,
            'uid': ACCOUNTS.get(owner, {}).get('uid', 0), 'gid': 0, 'mode': mode, 'link': None, 'target': None,
            'size': 6016 if kind == 'file' else None}


def config(release, name, text=None):
    parsed = parse_cf(read(release, name) if text is None else text)
    return {'path': '/etc/mail/' + name, 'error': None, 'settings': settings(parsed), 'maps': parsed['maps'],
            'values': parsed['occurrences'], 'mailers': parsed['mailers']}


def agreeing_source(name):
    """A .cf that is what its .mc builds (as on a fresh Debian host)."""
    return {'cf': '/etc/mail/' + name, 'mc': '/etc/mail/' + name.replace('.cf', '.mc'), 'buildable': True, 'reason': None,
            'error': None, 'built': None, 'only_installed': [], 'only_built': [], 'features': []}


def setid(path, owner, group, mode):
    return {'path': path, 'owner': owner, 'group': group, 'mode': mode,
            'setuid': bool(int(mode, 8) & 0o4000), 'setgid': bool(int(mode, 8) & 0o2000)}


def stock_state(release='bookworm'):
    """A fresh Debian host as the collector would report it."""
    d0 = parse_d0(read(release, 'd0.10.txt'))
    configs = {'mta': config(release, 'sendmail.cf'), 'msp': config(release, 'submit.cf')}
    groups = layout(configs, BINARY, ['/etc/mail/sendmail.mc', '/etc/mail/submit.mc'])
    groups.update(alias_programs=[], alias_program_dirs=[], smrsh_dirs=['/', '/etc', '/etc/mail', '/etc/mail/smrsh'],
                  smrsh_dir=['/etc/mail/smrsh'])
    paths = {path: entry(path, *values) for path, values in STOCK_PATHS.items()}
    link = entry('/etc/mail/aliases', 'root', 'smmsp', '0777', 'link')
    link.update(link='../aliases', target=paths['/etc/aliases'])
    paths['/etc/mail/aliases'] = link
    for path in groups['help'] + groups['status'] + groups['status_msp'] + ['/etc/mail/aliases.dir', '/etc/mail/aliases.pag']:
        paths.setdefault(path, {'path': path, 'exists': False, 'error': None})
    return {
        'installed': True, 'reason': None, 'version': d0['version'], 'drop_method': drop_method(d0['os_defines']),
        'binary': {'path': '/usr/sbin/sendmail', 'resolved': BINARY, 'exists': True,
                   'chain': ['/usr/sbin/sendmail', '/etc/alternatives/sendmail', BINARY]},
        'os': {'family': 'Debian', 'id': 'debian', 'release': release, 'version_id': '12'},
        'configs': configs, 'layout': groups, 'paths': paths, 'accounts': copy.deepcopy(ACCOUNTS),
        'alias_sources': {'/etc/mail/aliases': alias_source('')},
        'cf_sources': {'mta': agreeing_source('sendmail.cf'), 'msp': agreeing_source('submit.cf')},
        'pid_file': d0['pid_file'],
        'setid_files': [setid(BINARY, 'root', 'smmsp', '2755'), setid('/usr/libexec/sendmail/mailstats', 'root', 'smmsp', '2755'),
                        setid('/usr/sbin/sensible-mda', 'root', 'root', '4755')],
        'setid_candidates': [BINARY, '/usr/libexec/sendmail/mailstats', '/usr/sbin/sensible-mda', '/usr/libexec/sendmail/makemap'],
        'statoverrides': parse_statoverride(read(release, 'statoverride')),
        'queue_files': {'/var/spool/mqueue': {'files': [], 'error': None}, '/var/spool/mqueue-client': {'files': [], 'error': None}},
        'kernel': {'probed': True, 'reason': None, 'setreuid_ok': True, 'seteuid_ok': True, 'failed_step': None},
        'method_works': True,
        'runas_impact': {'user': 'smmta', 'set': False, 'error': None, 'items': [], 'users_scanned': 30},
        'compiled_with': d0['compiled_with'],
    }


def legacy_state(release='bookworm'):
    """The lab's legacy profile applied to a stock host."""
    state = stock_state(release)
    paths = state['paths']
    paths[BINARY]['mode'] = '6755'
    state['setid_files'][0] = setid(BINARY, 'root', 'smmsp', '6755')
    state['statoverrides'][0]['mode'] = '6755'
    paths['/var/spool/mqueue'].update(owner='root', group='smmsp', mode='0777')
    paths['/var/spool/mqueue-client'].update(owner='root', group='smmsp', mode='0777')
    paths['/etc/mail/sendmail.cf'].update(mode='0664')
    paths['/etc/aliases'].update(owner='alice', group='alice')
    text = read(release, 'sendmail.cf').replace('O DontBlameSendmail=', 'O DontBlameSendmail=%s\n#' % LEGACY_DONT_BLAME, 1)
    text = legacy_mc_in_cf(text)
    state['configs']['mta'] = config(release, 'sendmail.cf', text)
    state['cf_sources']['mta']['features'] = ['promiscuous_relay']
    state['alias_sources']['/etc/mail/aliases'] = alias_source(''.join(line + '\n' for line in LEGACY_ALIASES))
    state['layout'].update(alias_programs=['/usr/local/bin/lab-decode'], alias_program_dirs=['/', '/usr', '/usr/local', '/usr/local/bin'])
    for path in ('/usr', '/usr/local', '/usr/local/bin'):
        paths[path] = entry(path, 'root', 'root', '0755', 'dir')
    paths['/usr/local/bin/lab-decode'] = entry('/usr/local/bin/lab-decode', 'alice', 'alice', '0775')
    state['smrsh_entries'] = [{'name': 'sh', 'link': '/bin/sh'}]
    state['syslog'] = {'configs': ['/etc/rsyslog.d/lab-mail.conf'],
                       'rules': [{'config': '/etc/rsyslog.d/lab-mail.conf', 'line': 1, 'text': 'mail.* -/var/log/mail.log',
                                  'file': '/var/log/mail.log'}]}
    state['layout']['mail_logs'] = ['/var/log/mail.log']
    paths['/var/log/mail.log'] = entry('/var/log/mail.log', 'alice', 'alice', '0666')
    return state


LEGACY_ALIASES = ('decode: "|/usr/local/bin/lab-decode"',)


def alias_source(text):
    return {'path': '/etc/mail/aliases', 'resolved': '/etc/aliases', 'error': None, 'text': text, 'entries': alias_entries(text)}


def legacy_mc_in_cf(text):
    """What the legacy .mc builds differently: LogLevel 4, and promiscuous_relay drops the rules that deny relaying."""
    text = re.sub(r'^O LogLevel=.*$', 'O LogLevel=4', text, count=1, flags=re.M)
    return '\n'.join(line for line in text.splitlines() if 'Relaying denied' not in line) + '\n'


def handedit_state(release='bookworm'):
    """A stock host whose sendmail.cf carries lines its .mc does not build."""
    state = stock_state(release)
    state['cf_sources']['mta'].update(only_installed=[{'line': 120, 'text': 'O MaxMessageSize=5000000'}])
    return state


def expected_all(family='Debian', overrides=None):
    return {c['id']: expected_for(c, family, (overrides or {}).get(c['id'])) for c in CONTROLS}


def judge(state, control_id, overrides=None, family='Debian'):
    control = BY_ID[control_id]
    return evaluate_control(control, expected_for(control, family, overrides), state)


def failing(findings, statuses=('fail', 'error')):
    return [item['id'] for item in findings if item['status'] in statuses]


# --- whole hosts ----------------------------------------------------------------


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_stock_debian_fails_exactly(release):
    findings = evaluate(CONTROLS, expected_all(), stock_state(release), today=TODAY)
    assert failing(findings) == STOCK_FAILS
    others = {item['id']: item['status'] for item in findings if item['id'] not in STOCK_FAILS}
    # The hosts run no syslog daemon of their own: the mail log has nothing to judge; Debian makes no STARTTLS key.
    absent = {'SM-LOG-02': 'not_applicable', 'SM-RELAY-02': 'not_applicable', 'SM-TLS-01': 'not_applicable',
              'SM-TLS-02': 'not_applicable', 'SM-TLS-04': 'not_applicable', 'SM-TLS-06': 'not_applicable'}
    assert others == dict({control_id: 'pass' for control_id in others}, **absent)


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_legacy_profile_fails_exactly(release):
    findings = evaluate(CONTROLS, expected_all(), legacy_state(release), today=TODAY)
    assert failing(findings) == LEGACY_FAILS
    assert set(LEGACY_FAILS) == set(STOCK_FAILS) | {'SM-STATOVR-01', 'SM-QUEUE-02', 'SM-FILE-02', 'SM-FILE-05', 'SM-LOG-01',
                                                    'SM-RELAY-01', 'SM-ALIAS-01', 'SM-ALIAS-03', 'SM-PROG-03', 'SM-LOG-02'}


def test_findings_have_exactly_the_contract_keys():
    findings = evaluate(CONTROLS, expected_all(), stock_state(), today=TODAY)
    for item in findings:
        assert set(item) == {'id', 'title', 'family', 'severity', 'status', 'expected', 'actual', 'path', 'evidence',
                             'references', 'fix', 'waiver'}
        assert all(isinstance(item[key], str) for key in ('expected', 'actual', 'evidence', 'fix'))
        assert item['path'] is None or isinstance(item['path'], str)
        assert isinstance(item['references'], list) and item['waiver'] is None
    summary = summarize(findings)
    assert summary == {'counts': {'pass': 22, 'fail': 15, 'error': 0, 'not_applicable': 6, 'waived': 0},
                       'drift': True, 'controls_evaluated': 43}
    assert set(summary['counts']) == set(STATUSES)


def test_stock_evidence_reads_like_the_host():
    findings = {item['id']: item for item in evaluate(CONTROLS, expected_all(), stock_state(), today=TODAY)}
    assert 'lstat /etc/mail: smmta:smmsp 2755' in findings['SM-FILE-01']['evidence']
    assert findings['SM-FILE-01']['path'] == '/etc/mail'
    assert findings['SM-FILE-05']['evidence'] == \
        'lstat /etc/mail/aliases: symlink -> ../aliases (root:smmsp); followed: stat /etc/aliases: root:root 0644'
    assert findings['SM-QUEUE-01']['actual'] == '/var/spool/mqueue: owner smmta, not root, mode 2750 has 2050 beyond 0700'
    assert findings['SM-SETUID-01']['actual'] == '/usr/sbin/sensible-mda (4755)'
    assert findings['SM-SAFE-02']['actual'] == 'SafeFileEnvironment=/'


def test_host_without_sendmail_is_not_applicable():
    state = {'installed': False, 'reason': '/usr/sbin/sendmail does not exist', 'os': {'family': 'Debian'}}
    findings = evaluate(CONTROLS, expected_all(), state, today=TODAY)
    assert {item['status'] for item in findings} == {'not_applicable'}
    assert findings[0]['evidence'] == '/usr/sbin/sendmail does not exist'
    assert summarize(findings)['drift'] is False


def test_host_without_sendmail_has_a_verdict_of_its_own():
    state = {'installed': False, 'reason': '/usr/sbin/sendmail does not exist', 'os': {'family': 'Debian'}}
    findings = evaluate(CONTROLS, expected_all(), state, today=TODAY)
    assert summarize(findings, state)['verdict'] == 'no_sendmail'
    assert summarize(evaluate(CONTROLS, expected_all(), stock_state(), today=TODAY), stock_state())['verdict'] == 'drift'
    assert verdict(True, True, False) == 'compliant' and verdict(False, None, True) == 'not_audited'


def test_a_daemon_without_its_program_is_an_error_never_compliant():
    seen = 'a sendmail daemon runs (pid 123, /usr/lib/sm.bin/sendmail (deleted)) but /usr/sbin/sendmail does not exist'
    state = {'installed': False, 'reason': '/usr/sbin/sendmail does not exist', 'os': {'family': 'Debian'},
             'locate': {'seen': seen, 'evidence': 'lstat /usr/sbin/sendmail: absent; /proc/123/exe: /usr/lib/sm.bin/sendmail (deleted)'}}
    findings = evaluate(CONTROLS, expected_all(), state, today=TODAY)
    assert {item['status'] for item in findings} == {'error'}
    assert findings[0]['actual'] == 'cannot be audited: ' + seen
    assert findings[0]['evidence'].endswith('/proc/123/exe: /usr/lib/sm.bin/sendmail (deleted)')
    assert summarize(findings, state)['drift'] is True and summarize(findings, state)['verdict'] == 'drift'


def test_sendmail_found_elsewhere_is_said_in_the_evidence():
    state = stock_state()
    state['locate'] = {'found': '/usr/sbin/sendmail does not exist; sendmail found at /usr/sbin/sendmail.sendmail, '
                                'through the alternatives link /etc/alternatives/mta', 'seen': None}
    found = judge(state, 'SM-SAFE-02')
    assert found['evidence'].endswith('; /usr/sbin/sendmail does not exist; sendmail found at /usr/sbin/sendmail.sendmail, '
                                      'through the alternatives link /etc/alternatives/mta')


def test_corrupt_mta_config_gives_errors_for_the_controls_reading_it():
    state = stock_state()
    state['configs']['mta'] = {'path': '/etc/mail/sendmail.cf', 'error': 'no options and no V line: not a sendmail configuration',
                               'settings': None, 'maps': {}}
    findings = {item['id']: item for item in evaluate(CONTROLS, expected_all(), state, today=TODAY)}
    errors = sorted(i for i, item in findings.items() if item['status'] == 'error')
    assert errors == sorted(c['id'] for c in CONTROLS if 'mta' in c['needs'])
    assert findings['SM-RUNAS-01']['evidence'] == '/etc/mail/sendmail.cf: no options and no V line: not a sendmail configuration'
    assert findings['SM-FILE-02']['status'] == 'pass'  # the file itself can still be checked
    assert summarize(list(findings.values()))['drift'] is True


def test_os_family_applicability():
    state = stock_state()
    state['os']['family'] = 'RedHat'
    assert judge(state, 'SM-STATOVR-01', family='RedHat')['status'] == 'not_applicable'
    assert judge(state, 'SM-RUNAS-01', family='RedHat')['actual'] == 'unset (the MTA keeps root)'


def test_unforeseen_state_is_an_error_not_a_crash():
    state = stock_state()
    state['setid_files'] = [{'path': '/x'}]
    assert judge(state, 'SM-SETUID-01')['status'] == 'error'


# --- privilege ------------------------------------------------------------------


def with_option(state, role, name, value):
    state['configs'][role]['settings'][name] = value
    return state


@pytest.mark.parametrize('value, overrides, status, actual', [
    ('smmta:smmsp', None, 'pass', 'RunAsUser=smmta:smmsp'),
    ('smmta', None, 'fail', 'RunAsUser=smmta; group smmta, not smmsp'),
    ('smmsp:smmsp', None, 'fail', 'RunAsUser=smmsp:smmsp; user smmsp, not smmta'),
    ('root', {'user': None, 'group': None}, 'fail', 'RunAsUser=root; RunAsUser=root is root'),
    ('ghost:smmsp', None, 'fail', 'RunAsUser=ghost:smmsp: no such user'),
    ('smmsp', {'user': None, 'group': None}, 'pass', 'RunAsUser=smmsp'),
    ('smmta', {'group': 'smmta'}, 'pass', 'RunAsUser=smmta'),
])
def test_runas(value, overrides, status, actual):
    result = judge(with_option(stock_state(), 'mta', 'RunAsUser', value), 'SM-RUNAS-01', overrides)
    assert (result['status'], result['actual']) == (status, actual)


def test_msp_runas():
    assert judge(stock_state(), 'SM-MSP-01')['status'] == 'pass'
    assert judge(with_option(stock_state(), 'msp', 'RunAsUser', None), 'SM-MSP-01')['actual'] == 'unset (the MSP keeps root)'
    assert judge(with_option(stock_state(), 'msp', 'RunAsUser', 'smmta'), 'SM-MSP-01')['status'] == 'fail'


@pytest.mark.parametrize('value, status', [(None, 'pass'), ('root', 'pass'), ('smmta', 'pass'), ('alice', 'fail'),
                                           ('smmsp', 'fail'), ('ghost', 'fail')])
def test_trusted_user(value, status):
    assert judge(with_option(stock_state(), 'mta', 'TrustedUser', value), 'SM-TRUST-01')['status'] == status


def test_trusted_user_must_be_a_system_user_even_when_allowed():
    result = judge(with_option(stock_state(), 'mta', 'TrustedUser', 'alice'), 'SM-TRUST-01', {'allowed': ['root', 'alice']})
    assert result['actual'] == 'TrustedUser=alice; alice (uid 1000) is not a system user'


def test_setuid_files():
    state = stock_state()
    assert judge(state, 'SM-SETUID-01', {'allowed': ['/usr/sbin/sensible-mda']})['status'] == 'pass'
    state['setid_files'] = [item for item in state['setid_files'] if not item['setuid']]
    result = judge(state, 'SM-SETUID-01')
    assert (result['status'], result['actual']) == ('pass', 'no set-user-id root file')
    state['setid_files'].append(setid('/usr/sbin/editmap', 'smmsp', 'smmsp', '4755'))  # set-user-id, not root
    assert judge(state, 'SM-SETUID-01')['status'] == 'pass'


def test_setgid_binary():
    state = stock_state()
    assert judge(state, 'SM-SETGID-01')['status'] == 'pass'
    state['paths'][BINARY].update(mode='6755')  # set-user-id is SM-SETUID-01's finding
    assert judge(state, 'SM-SETGID-01')['status'] == 'pass'
    state['paths'][BINARY].update(mode='0755')
    assert judge(state, 'SM-SETGID-01')['actual'] == '%s: mode 0755 lacks 2000' % BINARY
    state['paths'][BINARY].update(mode='2775', group='mail')
    assert judge(state, 'SM-SETGID-01')['actual'] == '%s: group mail, not smmsp, mode 2775 has 0020 beyond 2755' % BINARY


def test_statoverride():
    state = stock_state()
    assert judge(state, 'SM-STATOVR-01')['status'] == 'pass'
    state['statoverrides'] = state['statoverrides'][1:]
    result = judge(state, 'SM-STATOVR-01')
    assert result['actual'] == '%s has no statoverride (wanted root smmsp 2755)' % BINARY
    state = stock_state()
    state['statoverrides'].append({'owner': 'root', 'group': 'root', 'mode': '4755', 'path': '/usr/sbin/sensible-mda'})
    assert judge(state, 'SM-STATOVR-01')['actual'] == '/usr/sbin/sensible-mda pinned set-user-id (root root 4755)'
    override = {'entries': {'/usr/lib/sm.bin/sendmail': 'root smmsp 2555'}}  # absent from the host: skipped
    assert judge(stock_state(), 'SM-STATOVR-01', override)['status'] == 'pass'


# --- files ----------------------------------------------------------------------


def test_config_dirs():
    state = stock_state()
    state['paths']['/etc/mail'].update(owner='root')
    assert judge(state, 'SM-FILE-01')['status'] == 'pass'
    state['paths']['/etc'].update(mode='0775')
    assert judge(state, 'SM-FILE-01')['actual'] == '/etc: mode 0775 has 0020 beyond 2755'
    assert judge(stock_state(), 'SM-FILE-01', {'owner': ['root', 'smmta']})['status'] == 'pass'


@pytest.mark.parametrize('control_id, path', [('SM-FILE-02', '/etc/mail/sendmail.cf'), ('SM-FILE-03', '/etc/mail/submit.cf'),
                                              ('SM-FILE-04', '/etc/mail/submit.mc')])
def test_config_files(control_id, path):
    state = stock_state()
    assert judge(state, control_id)['status'] == 'pass'
    state['paths'][path].update(mode='0666')
    assert judge(state, control_id)['actual'] == '%s: mode 0666 has 0022 beyond 0644' % path
    state['paths'][path].update(mode='0644', owner='smmta')
    assert judge(state, control_id)['status'] == 'fail'
    del state['paths'][path]
    assert judge(state, control_id)['status'] == 'error'  # never read


def test_config_file_absent_or_unreadable():
    state = stock_state()
    state['paths']['/etc/mail/submit.cf'] = {'path': '/etc/mail/submit.cf', 'exists': False, 'error': None}
    assert judge(state, 'SM-FILE-03')['actual'] == '/etc/mail/submit.cf is absent'
    state['paths']['/etc/mail/submit.cf'] = {'path': '/etc/mail/submit.cf', 'exists': False, 'error': 'Permission denied'}
    assert judge(state, 'SM-FILE-03')['status'] == 'error'


def test_alias_file_link_and_target():
    state = stock_state()
    state['paths']['/etc/aliases'].update(mode='0664')
    assert judge(state, 'SM-FILE-05')['actual'] == '/etc/aliases: mode 0664 has 0020 beyond 0644'
    state['paths']['/etc/mail/aliases']['target'] = {'path': '/etc/aliases', 'exists': False, 'error': None}
    assert judge(state, 'SM-FILE-05')['actual'] == '/etc/aliases is absent'
    plain = stock_state()
    plain['paths']['/etc/mail/aliases'] = entry('/etc/mail/aliases', 'root', 'root', '0644')
    assert judge(plain, 'SM-FILE-05')['status'] == 'pass'
    assert 'stat /etc/aliases: root:root 0644' in entry_text(stock_state()['paths']['/etc/mail/aliases'])


def test_map_files():
    state = stock_state()
    assert judge(state, 'SM-FILE-06')['status'] == 'pass'
    state['paths']['/etc/mail/access.db'].update(mode='0644')
    assert judge(state, 'SM-FILE-06')['actual'] == '/etc/mail/access.db: mode 0644 has 0004 beyond 0640'
    state = stock_state()
    state['paths']['/etc/mail/aliases.db'].update(owner='alice', mode='0660')
    assert judge(state, 'SM-FILE-06')['actual'] == \
        '/etc/mail/aliases.db: owner alice, not root or smmta, mode 0660 has 0020 beyond 0644'
    with_option(state, 'mta', 'TrustedUser', None)
    state['paths']['/etc/mail/aliases.db'].update(owner='root', mode='0640')
    assert 'owner smmta, not root' in judge(state, 'SM-FILE-06')['actual']  # access.db, without a TrustedUser


def test_help_and_status_files():
    state = stock_state()
    assert judge(state, 'SM-FILE-07')['status'] == 'pass'  # the statistics files are absent
    state['paths']['/var/lib/sendmail/sendmail.st'] = entry('/var/lib/sendmail/sendmail.st', 'smmta', 'smmsp', '0600')
    assert judge(state, 'SM-FILE-07')['status'] == 'fail'  # smmta without RunAsUser
    with_option(state, 'mta', 'RunAsUser', 'smmta:smmsp')
    assert judge(state, 'SM-FILE-07')['status'] == 'pass'
    state['paths']['/etc/mail/helpfile'].update(mode='0666')
    assert judge(state, 'SM-FILE-07')['status'] == 'fail'


# --- queue ----------------------------------------------------------------------


def test_mta_queue():
    state = stock_state()
    state['paths']['/var/spool/mqueue'].update(owner='root', mode='0700')
    assert judge(state, 'SM-QUEUE-01')['status'] == 'pass'
    state = with_option(stock_state(), 'mta', 'RunAsUser', 'smmta:smmsp')
    assert judge(state, 'SM-QUEUE-01')['actual'] == '/var/spool/mqueue: mode 2750 has 2050 beyond 0700'
    assert judge(state, 'SM-QUEUE-01', {'mode': '2750'})['status'] == 'pass'
    state['paths']['/var/spool/mqueue'] = {'path': '/var/spool/mqueue', 'exists': False, 'error': None}
    assert judge(state, 'SM-QUEUE-01')['status'] == 'fail'
    state = stock_state()
    state['layout']['queue_mta'] = []
    assert judge(state, 'SM-QUEUE-01')['actual'] == 'no such path on this host'


def test_msp_queue():
    state = stock_state()
    assert judge(state, 'SM-QUEUE-02')['status'] == 'pass'
    state['paths']['/var/spool/mqueue-client'].update(mode='0750')
    assert judge(state, 'SM-QUEUE-02')['actual'] == '/var/spool/mqueue-client: mode 0750 lacks 0020'
    state['paths']['/var/spool/mqueue-client'].update(mode='0770', group='mail')
    assert judge(state, 'SM-QUEUE-02')['status'] == 'fail'


def test_queue_files():
    state = stock_state()
    state['queue_files']['/var/spool/mqueue']['files'] = [entry('/var/spool/mqueue/qfABC', 'root', 'smmsp', '0640')]
    assert judge(state, 'SM-QUEUE-03')['status'] == 'pass'
    state['queue_files']['/var/spool/mqueue-client']['files'] = [entry('/var/spool/mqueue-client/dfXYZ', 'smmsp', 'smmsp', '0664')]
    result = judge(state, 'SM-QUEUE-03')
    assert (result['status'], result['path']) == ('fail', '/var/spool/mqueue-client/dfXYZ')
    state = with_option(stock_state(), 'mta', 'QueueFileMode', '0644')
    assert judge(state, 'SM-QUEUE-03')['actual'] == '/etc/mail/sendmail.cf: QueueFileMode=0644 beyond 0770'
    state = stock_state()
    state['queue_files']['/var/spool/mqueue'] = {'files': [], 'error': 'Permission denied'}
    assert judge(state, 'SM-QUEUE-03')['status'] == 'error'


def queued(path, owner='smmsp', mode='0660', nlink=1, inode=None, kind='file', link=None):
    item = entry(path, owner, 'smmsp', mode, kind)
    item.update(nlink=nlink, inode=inode or [2049, abs(hash(path)) % 100000], link=link)
    return item


def test_queue_files_sees_links_and_foreign_entries():
    state = stock_state()
    client = state['queue_files']['/var/spool/mqueue-client']
    client['others'] = [queued('/var/spool/mqueue-client/qfEVIL', mode='0777', kind='link', link='/etc/shadow')]
    result = judge(state, 'SM-QUEUE-03')
    assert (result['status'], result['path']) == ('fail', '/var/spool/mqueue-client/qfEVIL')
    assert result['actual'] == '/var/spool/mqueue-client/qfEVIL is a symbolic link to /etc/shadow'
    assert 'lstat /var/spool/mqueue-client/qfEVIL: symlink -> /etc/shadow (smmsp:smmsp)' in result['evidence']
    assert '/var/spool/mqueue-client: 0 queue files, 1 other entry' in result['evidence']
    client['others'] = [queued('/var/spool/mqueue-client/xfP', kind='other')]
    assert judge(state, 'SM-QUEUE-03')['actual'] == '/var/spool/mqueue-client/xfP is neither a regular file nor a directory'
    client['others'] = [queued('/var/spool/mqueue-client/stash', mode='0755', kind='dir')]
    assert judge(state, 'SM-QUEUE-03')['actual'] == '/var/spool/mqueue-client/stash is a directory that is no queue subdirectory'


def test_queue_files_hard_links_fail_unless_every_link_is_queued():
    state = stock_state()
    mta = state['queue_files']['/var/spool/mqueue']
    # sendmail links a df file to each envelope it splits a message into: every link is in the queue
    mta['files'] = [queued('/var/spool/mqueue/dfA', 'root', '0600', 2, [2049, 7]),
                    queued('/var/spool/mqueue/dfB', 'root', '0600', 2, [2049, 7])]
    assert judge(state, 'SM-QUEUE-03')['status'] == 'pass'
    state['queue_files']['/var/spool/mqueue-client']['files'] = [queued('/var/spool/mqueue-client/qfX', nlink=2, inode=[2049, 9])]
    result = judge(state, 'SM-QUEUE-03')
    assert result['status'] == 'fail'
    assert result['actual'] == '/var/spool/mqueue-client/qfX has 2 hard links, 1 of them outside the queues'


def test_queue_files_allow_what_sendmail_keeps_in_a_queue():
    state = with_option(stock_state(), 'mta', 'HostStatusDirectory', '.hoststat')
    kept = [queued('/var/spool/mqueue/.hoststat', 'root', '0700', kind='dir'), queued('/var/spool/mqueue/lost+found', 'root', '0700', kind='dir')]
    state['queue_files']['/var/spool/mqueue']['others'] = kept
    assert judge(state, 'SM-QUEUE-03')['status'] == 'pass'
    state = stock_state()
    state['queue_files']['/var/spool/mqueue']['others'] = [queued('/var/spool/mqueue/.hoststat', 'root', '0700', kind='dir')]
    assert judge(state, 'SM-QUEUE-03')['status'] == 'fail'


# --- safety and privdrop --------------------------------------------------------


def test_dont_blame_sendmail():
    state = stock_state()
    result = judge(state, 'SM-SAFE-01')
    assert result['status'] == 'fail' and result['path'] == '/etc/mail/sendmail.cf'
    assert judge(with_option(state, 'mta', 'DontBlameSendmail', []), 'SM-SAFE-01')['status'] == 'pass'  # "safe"
    assert judge(with_option(state, 'mta', 'DontBlameSendmail', None), 'SM-SAFE-01')['actual'] == 'MTA: unset; MSP: unset'
    with_option(state, 'msp', 'DontBlameSendmail', ['GroupWritableAliasFile'])
    assert judge(state, 'SM-SAFE-01')['path'] == '/etc/mail/submit.cf'
    assert judge(state, 'SM-SAFE-01', {'allowed': ['safe', 'groupwritablealiasfile']})['status'] == 'pass'


def test_safe_file_environment():
    assert judge(stock_state(), 'SM-SAFE-02', {'value': '/srv/mail'})['actual'] == 'SafeFileEnvironment=/, not /srv/mail'
    assert judge(with_option(stock_state(), 'mta', 'SafeFileEnvironment', None), 'SM-SAFE-02')['actual'] == 'SafeFileEnvironment unset'
    assert judge(with_option(stock_state(), 'mta', 'SafeFileEnvironment', ''), 'SM-SAFE-02')['status'] == 'fail'


def test_privdrop():
    state = stock_state()
    assert judge(state, 'SM-PRIVDROP-01')['evidence'] == 'drop method seteuid (OS Defines); t_seteuid ok, t_setreuid ok'
    state.update(method_works=False, kernel=dict(state['kernel'], seteuid_ok=False, failed_step='t_seteuid: seteuid(0) failed'))
    result = judge(state, 'SM-PRIVDROP-01')
    assert (result['status'], result['actual']) == ('fail', 'seteuid fails on this kernel')
    state.update(method_works=None, kernel={'probed': False, 'reason': 'the probe needs root (effective uid is 1000)'})
    assert judge(state, 'SM-PRIVDROP-01')['status'] == 'error'


# --- waivers --------------------------------------------------------------------


WAIVERS = [
    {'id': 'SM-SETUID-01', 'hosts': 'relay*', 'reason': 'procmail delivery', 'expires': '2025-12-31'},
    {'id': 'SM-QUEUE-01', 'hosts': '*', 'reason': 'old monitoring reads the queue', 'expires': '2025-01-31'},
    {'id': 'SM-SAFE-01', 'hosts': '*', 'reason': 'legacy lists', 'expires': None},
]


def test_waivers_active_expired_and_host_pattern():
    findings = {item['id']: item for item in evaluate(CONTROLS, expected_all(), stock_state(), WAIVERS, 'relay1', TODAY)}
    assert findings['SM-SETUID-01']['status'] == 'waived'
    assert findings['SM-SETUID-01']['waiver'] == {'id': 'SM-SETUID-01', 'reason': 'procmail delivery', 'expires': '2025-12-31',
                                                  'expired': False}
    assert findings['SM-QUEUE-01']['status'] == 'fail'
    assert findings['SM-QUEUE-01']['waiver']['expired'] is True
    assert findings['SM-SAFE-01']['status'] == 'waived' and findings['SM-SAFE-01']['waiver']['expires'] is None
    assert summarize(list(findings.values()))['counts'] == {'pass': 22, 'fail': 13, 'error': 0, 'not_applicable': 6, 'waived': 2}
    other = {item['id']: item for item in evaluate(CONTROLS, expected_all(), stock_state(), WAIVERS, 'mx1', TODAY)}
    assert other['SM-SETUID-01']['status'] == 'fail' and other['SM-SETUID-01']['waiver'] is None


def test_waiver_on_a_passing_control_is_shown_but_changes_nothing():
    waivers = [{'id': 'SM-MSP-01', 'hosts': '*', 'reason': 'r', 'expires': None}]
    item = evaluate([BY_ID['SM-MSP-01']], expected_all(), stock_state(), waivers, 'h', TODAY)[0]
    assert item['status'] == 'pass' and item['waiver']['reason'] == 'r'


def test_active_waiver_wins_over_an_expired_one():
    waivers = [{'id': 'SM-SAFE-01', 'hosts': '*', 'reason': 'old', 'expires': '2020-01-01'},
               {'id': 'SM-SAFE-01', 'hosts': 'mx*', 'reason': 'new', 'expires': '2030-01-01'}]
    assert find_waiver('SM-SAFE-01', waivers, 'mx1', TODAY)['reason'] == 'new'
    assert find_waiver('SM-SAFE-01', waivers, 'relay', TODAY)['expired'] is True
    assert find_waiver('SM-SAFE-01', [dict(waivers[0], expires='2025-06-01')], 'x', TODAY)['expired'] is False  # last day


def test_waiver_errors():
    assert waiver_errors(WAIVERS, BY_ID) == []
    assert waiver_errors([{'id': 'SM-X', 'reason': ' ', 'expires': '31.12.2025'}], BY_ID) == [
        'waiver 1 names SM-X, which is no control id',
        'waiver 1 (SM-X) needs a reason',
        'waiver 1 (SM-X): expires must be a date as YYYY-MM-DD, not 31.12.2025',
    ]
    assert parse_date(datetime.date(2025, 1, 2)) == datetime.date(2025, 1, 2)


def test_mta_queue_belongs_to_runasuser_once_it_is_set():
    """A root-owned 0700 queue is right without RunAsUser and wrong with it: the daemon, no longer
    root, could not write its own queue."""
    from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import owner_names
    assert owner_names({'configs': {'mta': {'settings': {}}}}, ['@MTAUser']) == ['root']
    assert owner_names({'configs': {'mta': {'settings': {'RunAsUser': 'smmta:smmsp'}}}}, ['@MTAUser']) == ['smmta']


def test_the_submission_programs_statistics_may_be_its_users():
    """With the role msp, @RunAsUser is the RunAsUser of submit.cf: Red Hat's sm-client.st belongs to smmsp, who writes
    it; the MTA's own files do not."""
    from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import owner_names
    state = {'configs': {'mta': {'settings': {'RunAsUser': 'mailnull'}}, 'msp': {'settings': {'RunAsUser': 'smmsp'}}}}
    assert owner_names(state, ['root', '@RunAsUser']) == ['root', 'mailnull']
    assert owner_names(state, ['root', '@RunAsUser'], 'msp') == ['root', 'smmsp']
    assert owner_names(state, ['@MTAUser'], 'msp') == ['mailnull']


def test_cf_source_passes_where_the_cf_is_what_its_mc_builds():
    assert judge(stock_state(), 'SM-CF-01')['status'] == 'pass'


def test_cf_source_names_hand_edits_and_unbuilt_mc_changes():
    found = judge(handedit_state(), 'SM-CF-01')
    assert found['status'] == 'fail' and found['path'] == '/etc/mail/sendmail.cf'
    assert '120: O MaxMessageSize=5000000' in found['actual'] and 'silently drops them' in found['actual']
    state = stock_state()
    state['cf_sources']['msp'].update(only_built=[{'line': 9, 'text': 'O RunAsUser=smmsp'}])
    found = judge(state, 'SM-CF-01')
    assert found['status'] == 'fail' and 'the .mc changed, the .cf was not rebuilt' in found['actual']


def test_cf_source_without_a_way_to_rebuild_is_not_applicable():
    state = stock_state()
    for role in ('mta', 'msp'):
        state['cf_sources'][role].update(buildable=False, reason='m4 is not installed: nothing on this host rebuilds it')
    found = judge(state, 'SM-CF-01')
    assert found['status'] == 'not_applicable' and 'm4 is not installed' in found['evidence']
    state['cf_sources']['mta'].update(buildable=True, reason=None, error='m4 could not build /etc/mail/sendmail.cf')
    found = judge(state, 'SM-CF-01')
    assert found['status'] == 'fail' and 'the next rebuild would fail' in found['actual']
    del state['cf_sources']['mta']
    assert judge(state, 'SM-CF-01')['status'] == 'error'
