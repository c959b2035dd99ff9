# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rpm -V read and judged: the baseline's changes named by their control, the rest reported as unexplained."""

from __future__ import annotations

from ansible_collections.mailsec.sendmail.plugins.module_utils._judge_package import package_drift, update_undoes
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_package import FILES_FORMAT, package_verify, parse_rpm_verify

# rpm -V sendmail on a hardened EL9 host, with a binary replaced and a file removed by hand.
VERIFY = """\
.....U...    /var/spool/mqueue
.M.......  c /etc/mail/helpfile
S.5....T.  c /etc/mail/sendmail.cf
S.5....T.    /usr/sbin/makemap
missing      /usr/bin/hoststat
.......T.  c /etc/mail/local-host-names
.M.......    /etc/smrsh
"""


def test_parse_rpm_verify():
    entries = parse_rpm_verify(VERIFY + 'some warning rpm printed\n')
    assert [entry['path'] for entry in entries] == ['/var/spool/mqueue', '/etc/mail/helpfile', '/etc/mail/sendmail.cf',
                                                    '/usr/sbin/makemap', '/usr/bin/hoststat', '/etc/mail/local-host-names',
                                                    '/etc/smrsh']
    assert entries[0] == {'path': '/var/spool/mqueue', 'flags': '.....U...', 'config': False, 'ghost': False, 'missing': False,
                          'changed': ['owner']}
    assert parse_rpm_verify('.M.......  g /var/spool/clientmqueue/sm-client.st\n')[0]['ghost']
    assert entries[2]['changed'] == ['size', 'digest', 'mtime'] and entries[2]['config']
    assert entries[4]['missing'] and entries[4]['changed'] == []


def test_an_unreadable_attribute_counts_as_changed():
    assert parse_rpm_verify('..?......    /etc/mail/access\n')[0]['changed'] == ['digest']


def _state():
    return {'layout': {'queue_mta': ['/var/spool/mqueue'], 'smrsh_dirs': ['/', '/etc', '/etc/smrsh'],
                       'cf_mta': ['/etc/mail/sendmail.cf']}}


def test_package_drift_names_the_controls_and_what_nothing_explains():
    verify = {'manager': 'rpm', 'package': 'sendmail', 'error': None, 'entries': parse_rpm_verify(VERIFY)}
    findings = [{'id': 'SM-QUEUE-01', 'status': 'pass'}, {'id': 'SM-PROG-02', 'status': 'fail'},
                {'id': 'SM-FILE-02', 'status': 'pass'}]
    judged = package_drift(verify, findings, _state())
    kinds = {entry['path']: (entry['kind'], entry['controls']) for entry in judged['entries']}
    assert kinds == {
        '/var/spool/mqueue': ('intended', ['SM-QUEUE-01']),
        # a mode no passing control asks for: the helpfile is read by none of those selected
        '/etc/mail/helpfile': ('unexplained', []),
        '/etc/mail/sendmail.cf': ('configuration', []),
        '/usr/sbin/makemap': ('unexplained', []),
        '/usr/bin/hoststat': ('unexplained', []),
        '/etc/mail/local-host-names': ('timestamp', []),
        # SM-PROG-02 reads it but fails: the mode is not the baseline's either
        '/etc/smrsh': ('unexplained', ['SM-PROG-02']),
    }
    assert judged['update_undoes'] == ['SM-QUEUE-01']
    assert judged['unexplained'] == ['/etc/mail/helpfile', '/usr/sbin/makemap', '/usr/bin/hoststat', '/etc/smrsh']
    assert 'no passing control asks for it (SM-PROG-02 read it)' in judged['entries'][-1]['why']


def test_no_verify_where_the_package_keeps_no_modes():
    assert package_drift(None, [], {}) is None
    assert package_verify(None, 'Debian', '/usr/bin/rpm') is None


def test_package_verify_runs_rpm_on_red_hat():
    calls = []

    def run(argv):
        calls.append(argv)
        return (1, '.....U...    /var/spool/mqueue\n', '') if argv[1] == '-V' else (
            0, ' /var/spool/mqueue\ncn /etc/mail/sendmail.cf\ng /usr/sbin/sendmail\n', '')
    found = package_verify(run, 'RedHat', '/usr/bin/rpm')
    assert calls == [['/usr/bin/rpm', '-V', 'sendmail'], ['/usr/bin/rpm', '-q', '--qf', FILES_FORMAT, 'sendmail']]
    assert found['error'] is None and found['entries'][0]['changed'] == ['owner']
    # the ghost /usr/sbin/sendmail (an alternatives link) is no file an update installs
    assert found['files'] == ['/var/spool/mqueue', '/etc/mail/sendmail.cf']
    assert package_verify(run, 'RedHat', None)['error'] == 'rpm is not installed'
    assert package_verify(lambda argv: (1, '', 'package sendmail is not installed\n'), 'RedHat', '/usr/bin/rpm')['error'] == \
        'package sendmail is not installed'


def test_update_undoes_what_rpm_verify_and_the_planned_steps_show():
    verify = {'manager': 'rpm', 'package': 'sendmail', 'error': None, 'files': ['/var/spool/mqueue', '/etc/smrsh', '/etc/mail/helpfile'],
              'entries': parse_rpm_verify('.....U...    /var/spool/mqueue\n.M.......  g /var/spool/clientmqueue/sm-client.st\n')}
    state = dict(_state(), paths={'/var/spool/mqueue': {'owner': 'mailnull', 'group': 'mail', 'mode': '0700'}})
    steps = [{'id': 'SM-PROG-02', 'kind': 'path', 'target': '/etc/smrsh', 'changed': True,
              'after': {'owner': 'root', 'group': 'root', 'mode': '0755'}},
             {'id': 'SM-FILE-01', 'kind': 'path', 'target': '/etc/mail', 'changed': True, 'after': {'owner': 'root'}},
             {'id': 'SM-SMTP-03', 'kind': 'cf_option', 'target': '/etc/mail/sendmail.cf', 'changed': True}]
    state['layout']['status'] = ['/var/spool/clientmqueue/sm-client.st']
    found = update_undoes(verify, [{'id': 'SM-QUEUE-01', 'status': 'pass'}, {'id': 'SM-FILE-07', 'status': 'pass'}], state, steps)
    # /etc/mail is not the package's file here, and an update never installs the ghost sm-client.st: it touches neither
    assert found['undoes'] == [
        {'id': 'SM-PROG-02', 'path': '/etc/smrsh', 'owner': 'root', 'group': 'root', 'mode': '0755'},
        {'id': 'SM-QUEUE-01', 'path': '/var/spool/mqueue', 'owner': 'mailnull', 'group': 'mail', 'mode': '0700'}]
    assert update_undoes(None, [], {}) is None


def test_update_undoes_names_the_control_that_reads_a_path_in_both_modes():
    """RunAsUser's fix hands the statistics over (a step of SM-RUNAS-01); SM-FILE-07 is the control that reads the file,
    so check mode (the step) and the real run (rpm -V) name the same."""
    verify = {'manager': 'rpm', 'package': 'sendmail', 'error': None, 'files': ['/var/log/mail/statistics'], 'entries': []}
    state = {'layout': {'status': ['/var/log/mail/statistics']},
             'paths': {'/var/log/mail/statistics': {'owner': 'mailnull', 'group': 'mailnull', 'mode': '0600'}}}
    findings = [{'id': 'SM-FILE-07', 'status': 'fail'}, {'id': 'SM-RUNAS-01', 'status': 'fail'}]
    step = {'id': 'SM-RUNAS-01', 'kind': 'path', 'target': '/var/log/mail/statistics', 'changed': True,
            'after': {'owner': 'mailnull', 'group': 'mailnull', 'mode': '0600'}}
    planned = update_undoes(verify, findings, state, [step])['undoes']
    verify['entries'] = parse_rpm_verify('.....UG..  c /var/log/mail/statistics\n')
    done = update_undoes(verify, [dict(item, status='pass') for item in findings], state, [step])['undoes']
    assert planned == done == [{'id': 'SM-FILE-07', 'path': '/var/log/mail/statistics', 'owner': 'mailnull', 'group': 'mailnull',
                                'mode': '0600'}]
