# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rpm -V read and judged: the baseline's changes named by their control, the rest reported as unexplained."""

from __future__ import annotations

from ansible_collections.mailsec.sendmail.plugins.module_utils._judge_package import package_drift, undoes
from ansible_collections.mailsec.sendmail.plugins.module_utils._read_package import FILES_FORMAT, package_verify, parse_rpm_verify
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import BY_ID, expected_for

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
    assert judged['update_undoes'] == []  # without the expected values it cannot tell
    assert judged['unexplained'] == ['/etc/mail/helpfile', '/usr/sbin/makemap', '/usr/bin/hoststat', '/etc/smrsh']
    assert 'no passing control asks for it (SM-PROG-02 read it)' in judged['entries'][-1]['why']


def test_no_verify_where_the_package_keeps_no_modes():
    assert package_drift(None, [], {}) is None
    assert package_verify(None, 'Debian', '/usr/bin/rpm') is None


RECORDED = ('cn\troot\troot\t0100644\t/etc/mail/sendmail.cf\n \troot\tmail\t040700\t/var/spool/mqueue\n'
            'g\troot\troot\t0100644\t/usr/sbin/sendmail\ncn\troot\troot\t0100644\t/var/log/mail/statistics\n'
            ' \troot\troot\t040755\t/etc/smrsh\n')


def test_package_verify_runs_rpm_on_red_hat():
    calls = []

    def run(argv):
        calls.append(argv)
        return (1, '.....U...    /nonexistent/mqueue\n', '') if argv[1] == '-V' else (0, RECORDED, '')
    found = package_verify(run, 'RedHat', '/usr/bin/rpm')
    assert calls == [['/usr/bin/rpm', '-V', '--nodeps', '--noscripts', 'sendmail'], ['/usr/bin/rpm', '-q', '--qf', FILES_FORMAT, 'sendmail']]
    assert found['error'] is None and found['entries'][0]['changed'] == ['owner']
    # the ghost /usr/sbin/sendmail (an alternatives link) is no file an update installs
    assert found['recorded'] == {'/etc/mail/sendmail.cf': {'owner': 'root', 'group': 'root', 'mode': '0644'},
                                 '/var/spool/mqueue': {'owner': 'root', 'group': 'mail', 'mode': '0700'},
                                 '/var/log/mail/statistics': {'owner': 'root', 'group': 'root', 'mode': '0644'},
                                 '/etc/smrsh': {'owner': 'root', 'group': 'root', 'mode': '0755'}}
    assert package_verify(run, 'RedHat', None)['error'] == 'rpm is not installed'
    assert package_verify(lambda argv: (1, '', 'package sendmail is not installed\n'), 'RedHat', '/usr/bin/rpm')['error'] == \
        'package sendmail is not installed'


def _runas_state(run_as):
    return {'configs': {'mta': {'settings': {'RunAsUser': run_as} if run_as else {}}, 'msp': {'settings': {'RunAsUser': 'smmsp'}}},
            'layout': {'queue_mta': ['/var/spool/mqueue'], 'status': ['/var/log/mail/statistics'],
                       'smrsh_dirs': ['/', '/etc', '/etc/smrsh']}}


def _lstat(owner, group, mode):
    """A path as the read stage records it (lstat_entry)."""
    return {'exists': True, 'type': 'file', 'owner': owner, 'group': group, 'mode': mode}


def _expected():
    return {control_id: expected_for(BY_ID[control_id], 'RedHat') for control_id in ('SM-QUEUE-01', 'SM-FILE-07', 'SM-PROG-02', 'SM-RUNAS-01')}


def test_check_mode_the_real_run_and_the_next_run_name_the_same_undoes():
    recorded = package_verify(lambda argv: (0, '', '') if argv[1] == '-V' else (0, RECORDED, ''), 'RedHat', '/usr/bin/rpm')['recorded']
    steps = [{'id': 'SM-RUNAS-01', 'kind': 'path', 'target': '/var/log/mail/statistics', 'changed': True,
              'after': {'owner': 'mailnull', 'group': 'mailnull', 'mode': '0600'}},
             {'id': 'SM-QUEUE-01', 'kind': 'path', 'target': '/var/spool/mqueue', 'changed': True,
              'after': {'owner': 'mailnull', 'group': 'mail', 'mode': '0700'}},
             # an administrator's 0775 back to the package's own 0755: nothing an update undoes
             {'id': 'SM-PROG-02', 'kind': 'path', 'target': '/etc/smrsh', 'changed': True,
              'after': {'owner': 'root', 'group': 'root', 'mode': '0755'}}]
    planned = undoes({'entries': [], 'recorded': recorded}, _runas_state(None), _expected(), steps)
    after = {'entries': [{'path': '/var/spool/mqueue', 'changed': ['owner']},
                         {'path': '/var/log/mail/statistics', 'changed': ['owner', 'group', 'mode']}], 'recorded': recorded}
    hardened = dict(_runas_state('mailnull:mailnull'), paths={
        '/var/spool/mqueue': _lstat('mailnull', 'mail', '0700'), '/var/log/mail/statistics': _lstat('mailnull', 'mailnull', '0600')})
    done = undoes(after, hardened, _expected(), steps)
    again = undoes(after, hardened, _expected())
    assert planned == done == again == [
        {'id': 'SM-QUEUE-01', 'path': '/var/spool/mqueue', 'owner': 'mailnull', 'group': 'mail', 'mode': '0700'},
        {'id': 'SM-RUNAS-01', 'path': '/var/log/mail/statistics', 'owner': 'mailnull', 'group': 'mailnull', 'mode': '0600'}]


def test_an_administrators_change_the_baseline_does_not_ask_for_is_not_kept():
    recorded = {'/etc/mail/helpfile': {'owner': 'root', 'group': 'root', 'mode': '0644'}}
    verify = {'entries': [{'path': '/etc/mail/helpfile', 'changed': ['mode']}], 'recorded': recorded}
    state = dict(_runas_state(None), layout={'help': ['/etc/mail/helpfile']}, paths={'/etc/mail/helpfile': _lstat('root', 'root', '0640')})
    # SM-FILE-07 accepts the package's 0644 too: an update leaves the host within the baseline
    assert undoes(verify, state, _expected()) == []


def test_the_audit_names_what_an_update_undoes_from_the_expected_values():
    verify = {'manager': 'rpm', 'package': 'sendmail', 'error': None,
              'entries': parse_rpm_verify('.....U...    /var/spool/mqueue\n'),
              'recorded': {'/var/spool/mqueue': {'owner': 'root', 'group': 'mail', 'mode': '0700'}}}
    state = dict(_runas_state('mailnull'), paths={'/var/spool/mqueue': _lstat('mailnull', 'mail', '0700')})
    judged = package_drift(verify, [{'id': 'SM-QUEUE-01', 'status': 'pass'}], state, _expected())
    assert judged['update_undoes'] == ['SM-QUEUE-01']
