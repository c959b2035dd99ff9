# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import re
import shutil

import pytest

from ansible.module_utils.testing import patch_module_args
from ansible_collections.mailsec.sendmail.plugins.modules import sendmail_drift

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'fixtures')
KEYS = {'id', 'title', 'family', 'severity', 'status', 'expected', 'actual', 'path', 'evidence', 'references', 'fix', 'waiver'}


def run_module(capsys, args):
    with patch_module_args(args), pytest.raises(SystemExit) as leaving:
        sendmail_drift.main()
    result = json.loads(capsys.readouterr().out)
    result['rc'] = leaving.value.code
    return result


def fake_sendmail(tmp_path, release='bookworm', corrupt=False):
    """A program printing the release's -d0.10 output, its configs copied under tmp_path."""
    with open(os.path.join(FIXTURES, release, 'd0.10.txt'), encoding='utf-8') as handle:
        (tmp_path / 'd0.txt').write_text(handle.read().replace('/etc/mail/', '%s/' % tmp_path))
    for name in ('sendmail.cf', 'submit.cf'):
        shutil.copy(os.path.join(FIXTURES, release, name), str(tmp_path / name))
    if corrupt:
        (tmp_path / 'sendmail.cf').write_bytes(b'\x00\xff garbage\nnot a config\n')
    program = tmp_path / 'sendmail'
    program.write_text('#!/bin/sh\ncat >/dev/null\ncat "%s"\n' % (tmp_path / 'd0.txt'))
    program.chmod(0o755)
    return str(program)


def test_host_without_sendmail(capsys, tmp_path):
    result = run_module(capsys, {'binary': str(tmp_path / 'sendmail'), 'fail_on_drift': True})
    assert result['rc'] == 0 and result['changed'] is False
    assert result['drift'] is False and result['controls_evaluated'] == 43
    assert result['counts'] == {'pass': 0, 'fail': 0, 'error': 0, 'not_applicable': 43, 'waived': 0}
    assert result['sendmail'] == {'installed': False, 'version': None, 'drop_method': None, 'program': None, 'found': None,
                                  'reason': '%s does not exist' % (tmp_path / 'sendmail'), 'seen': None}
    assert result['verdict'] == 'no_sendmail'
    assert all(set(item) == KEYS for item in result['findings'])


def test_a_daemon_without_its_program_is_drift(capsys, tmp_path, nowhere_else):
    pid = nowhere_else / '123'
    pid.mkdir()
    (pid / 'status').write_text('Name:\tsendmail-mta\nPPid:\t1\nUid:\t0\t0\t0\t0\n')
    (pid / 'cmdline').write_bytes(b'sendmail: MTA: accepting connections\0')
    (pid / 'exe').symlink_to('/usr/lib/sm.bin/sendmail (deleted)')
    result = run_module(capsys, {'binary': str(tmp_path / 'sendmail'), 'include': ['queue'], 'fail_on_drift': True})
    seen = 'a sendmail daemon runs (pid 123, /usr/lib/sm.bin/sendmail (deleted)) but %s does not exist' % (tmp_path / 'sendmail')
    assert result['rc'] == 1 and result['drift'] is True and result['verdict'] == 'drift'
    assert result['sendmail']['seen'] == seen
    assert result['counts']['error'] == 3
    assert result['msg'] == 'sendmail drifts from the baseline in 3 controls (SM-QUEUE-01, SM-QUEUE-02, SM-QUEUE-03): fix or waive them.'


@pytest.mark.parametrize('release', ['bookworm', 'trixie'])
def test_fixture_host(capsys, tmp_path, release):
    result = run_module(capsys, {'binary': fake_sendmail(tmp_path, release), 'probe_kernel': False, 'os_family': 'Debian',
                                 'include': ['privilege', 'safety'], 'exclude': ['binaries']})
    assert result['rc'] == 0 and result['os_family'] == 'Debian'
    assert result['sendmail']['drop_method'] == 'seteuid'
    # When the audit began and ended, for XCCDF and OSCAL.
    assert all(re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', result['audited'][key]) for key in ('start', 'end'))
    assert result['audited']['start'] <= result['audited']['end']
    found = {item['id']: item for item in result['findings']}
    assert sorted(found) == ['SM-MSP-01', 'SM-RUNAS-01', 'SM-RUNAS-02', 'SM-SAFE-01', 'SM-SAFE-02', 'SM-TLS-01', 'SM-TRUST-01']
    # SM-MSP-01 and SM-TRUST-01 look the users up on this machine, which may have no smmsp or smmta.
    assert found['SM-MSP-01']['actual'].startswith('RunAsUser=smmsp')
    assert found['SM-TRUST-01']['actual'].startswith('TrustedUser=smmta')
    assert [found[i]['status'] for i in ('SM-RUNAS-01', 'SM-SAFE-01', 'SM-SAFE-02')] == ['fail', 'fail', 'pass']
    assert result['drift'] is True


def test_expected_override_and_waiver(capsys, tmp_path):
    args = {'binary': fake_sendmail(tmp_path), 'probe_kernel': False, 'os_family': 'Debian', 'include': ['SM-SAFE-01', 'SM-SAFE-02'],
            'expected': {'SM-SAFE-02': {'value': '/srv/mail'}}, 'host_name': 'relay1',
            'waivers': [{'id': 'SM-SAFE-01', 'hosts': 'relay*', 'reason': 'old lists', 'expires': '2999-12-31'}]}
    result = run_module(capsys, args)
    found = {item['id']: item for item in result['findings']}
    assert found['SM-SAFE-01']['status'] == 'waived'
    assert found['SM-SAFE-01']['waiver'] == {'id': 'SM-SAFE-01', 'reason': 'old lists', 'expires': '2999-12-31', 'expired': False}
    assert found['SM-SAFE-02']['actual'] == 'SafeFileEnvironment=/, not /srv/mail'
    args['waivers'][0]['expires'] = '2000-01-01'
    found = {item['id']: item for item in run_module(capsys, args)['findings']}
    assert found['SM-SAFE-01']['status'] == 'fail' and found['SM-SAFE-01']['waiver']['expired'] is True


def test_fail_on_drift_keeps_the_findings(capsys, tmp_path):
    result = run_module(capsys, {'binary': fake_sendmail(tmp_path), 'probe_kernel': False, 'os_family': 'Debian',
                                 'include': ['SM-RUNAS-01', 'SM-SAFE-02'], 'fail_on_drift': True})
    assert result['rc'] == 1 and result['failed'] is True
    assert result['msg'] == 'sendmail drifts from the baseline in 1 control (SM-RUNAS-01): fix or waive it.'
    assert [item['status'] for item in result['findings']] == ['fail', 'pass']


def test_corrupt_config_gives_errors(capsys, tmp_path):
    result = run_module(capsys, {'binary': fake_sendmail(tmp_path, corrupt=True), 'probe_kernel': False, 'os_family': 'Debian'})
    assert result['rc'] == 0
    found = {item['id']: item for item in result['findings']}
    assert found['SM-RUNAS-01']['status'] == 'error'
    assert found['SM-RUNAS-01']['evidence'].endswith('no options and no V line: not a sendmail configuration')
    assert found['SM-SAFE-01']['status'] == 'error'
    assert found['SM-FILE-03']['status'] != 'error'  # the file is lstat'ed, not parsed
    assert found['SM-QUEUE-02']['status'] != 'error'  # submit.cf is fine
    assert found['SM-PRIVDROP-01']['status'] == 'error'  # probe_kernel false


def test_bad_options_fail_with_one_clear_message(capsys, tmp_path):
    result = run_module(capsys, {'binary': str(tmp_path / 'sendmail'), 'include': ['nothing'],
                                 'expected': {'SM-QUEUE-01': {'mode': 448}},
                                 'waivers': [{'id': 'SM-QUEUE-01', 'reason': 'x', 'expires': 'soon'}]})
    assert result['rc'] == 1
    assert result['msg'] == ('include names nothing, which is no control id, family or tag; '
                             'expected.SM-QUEUE-01.mode must be a quoted octal string such as "0644"; '
                             'waiver 1 (SM-QUEUE-01): expires must be a date as YYYY-MM-DD, not soon.')


def test_the_controls_left_out_are_named(capsys, tmp_path):
    result = run_module(capsys, {'binary': fake_sendmail(tmp_path), 'probe_kernel': False, 'os_family': 'Debian',
                                 'exclude': ['smtp']})
    assert [item['id'] for item in result['excluded']] == ['SM-SMTP-01', 'SM-SMTP-02', 'SM-SMTP-03', 'SM-SMTP-04']
    assert result['excluded'][0]['title'] and set(result['excluded'][0]) == {'id', 'title'}
    assert result['controls_evaluated'] == 39
    everything = run_module(capsys, {'binary': str(tmp_path / 'absent')})
    assert everything['excluded'] == []
