# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json
import os
import re

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args
from ansible_collections.mailsec.sendmail.plugins.modules import sendmail_audit_report

FIXTURES = os.path.join(os.path.dirname(__file__), '..', 'module_utils', 'fixtures', 'report')
STAMP = '2025-11-25T10:00:00Z'
ALL_FILES = ['arf.xml', 'junit.xml', 'oscal-assessment-results.json', 'report.html', 'report.json', 'report.md',
             'xccdf-results.xml']


@pytest.fixture
def results():
    with open(os.path.join(FIXTURES, 'results.json'), encoding='utf-8') as handle:
        return json.load(handle)


def run_module(capsys, tmp_path, args, check_mode=False, diff=False):
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff, _ansible_remote_tmp=str(tmp_path / 'remote-tmp'),
                _ansible_keep_remote_files=False)
    with patch_module_args(args), pytest.raises(SystemExit):
        sendmail_audit_report.main()
    return json.loads(capsys.readouterr().out)


def test_writes_every_format(capsys, tmp_path, results):
    dest = tmp_path / 'reports' / 'audit'
    result = run_module(capsys, tmp_path, {'results': results, 'dest': str(dest), 'generated_at': STAMP, 'collection_version': '0.1.0'})
    assert result['changed'] is True
    assert sorted(os.listdir(dest)) == ALL_FILES
    assert result['files'] == {name: str(dest / file) for name, file in
                               (('json', 'report.json'), ('junit', 'junit.xml'), ('md', 'report.md'), ('html', 'report.html'),
                                ('xccdf', 'xccdf-results.xml'), ('arf', 'arf.xml'), ('oscal', 'oscal-assessment-results.json'))}
    assert sorted(result['written']) == sorted(str(dest / name) for name in ALL_FILES)
    assert result['drift'] is True
    assert result['totals']['hosts_drift'] == 3
    assert [host['host'] for host in result['hosts']] == ['lab-clean', 'lab-down', 'lab-legacy', 'lab-stock']
    assert result['hosts'][3]['failing'] == ['SM-RUNAS-01', 'SM-SUID-02']
    assert result['hosts'][1]['summary'].startswith('lab-down: NOT AUDITED')
    assert result['hosts'][1]['msg'].startswith('Failed to connect to the host via ssh')
    assert result['hosts'][0]['msg'] is None
    report = json.loads((dest / 'report.json').read_text(encoding='utf-8'))
    assert report['generated_at'] == STAMP
    assert report['collection_version'] == '0.1.0'
    assert '<!DOCTYPE html>' in (dest / 'report.html').read_text(encoding='utf-8')


def test_same_results_again_change_nothing(capsys, tmp_path, results):
    args = {'results': results, 'dest': str(tmp_path / 'out'), 'generated_at': STAMP}
    run_module(capsys, tmp_path, args)
    before = {name: os.stat(tmp_path / 'out' / name).st_ino for name in ALL_FILES}
    again = run_module(capsys, tmp_path, args)
    assert again['changed'] is False
    assert again['written'] == []
    assert {name: os.stat(tmp_path / 'out' / name).st_ino for name in ALL_FILES} == before


def test_check_mode_writes_nothing(capsys, tmp_path, results):
    dest = tmp_path / 'absent'
    result = run_module(capsys, tmp_path, {'results': results, 'dest': str(dest), 'generated_at': STAMP}, check_mode=True)
    assert result['changed'] is True
    assert len(result['written']) == len(ALL_FILES)
    assert not dest.exists()


def test_check_mode_keeps_old_reports(capsys, tmp_path, results):
    dest = tmp_path / 'out'
    run_module(capsys, tmp_path, {'results': results, 'dest': str(dest), 'generated_at': STAMP})
    old = {name: (dest / name).read_bytes() for name in ALL_FILES}
    result = run_module(capsys, tmp_path, {'results': results[:1], 'dest': str(dest), 'generated_at': '2030-01-01T00:00:00Z'},
                        check_mode=True)
    assert result['changed'] is True
    assert {name: (dest / name).read_bytes() for name in ALL_FILES} == old


def test_writes_through_a_temporary_file_and_atomic_move(capsys, tmp_path, results, monkeypatch):
    moves = []
    real_move = AnsibleModule.atomic_move

    def spy(self, src, dest, *args, **kwargs):
        moves.append((src, dest, os.path.dirname(src) == self.tmpdir, open(src, 'rb').read()))
        return real_move(self, src, dest, *args, **kwargs)

    monkeypatch.setattr(AnsibleModule, 'atomic_move', spy)
    dest = tmp_path / 'out'
    run_module(capsys, tmp_path, {'results': results, 'dest': str(dest), 'formats': ['json', 'html'], 'generated_at': STAMP})
    assert sorted(os.listdir(dest)) == ['report.html', 'report.json']
    assert [os.path.basename(move[1]) for move in moves] == ['report.json', 'report.html']
    for src, target, in_tmpdir, data in moves:
        assert in_tmpdir, src
        assert not os.path.exists(src)
        assert open(target, 'rb').read() == data
    assert not [name for name in os.listdir(dest) if name.startswith('.report-')]


def test_formats_subset_leaves_other_files(capsys, tmp_path, results):
    dest = tmp_path / 'out'
    dest.mkdir()
    (dest / 'report.md').write_text('old markdown')
    result = run_module(capsys, tmp_path, {'results': results, 'dest': str(dest), 'formats': ['junit'], 'generated_at': STAMP})
    assert result['files'] == {'junit': str(dest / 'junit.xml')}
    assert sorted(os.listdir(dest)) == ['junit.xml', 'report.md']
    assert (dest / 'report.md').read_text() == 'old markdown'


def test_diff_compares_summaries(capsys, tmp_path, results):
    dest = tmp_path / 'out'
    first = run_module(capsys, tmp_path, {'results': results, 'dest': str(dest), 'generated_at': STAMP}, diff=True)
    assert first['diff']['before'] == {}
    assert first['diff']['after']['hosts']['lab-stock']['failing'] == ['SM-RUNAS-01', 'SM-SUID-02']
    assert 'generated_at' not in json.dumps(first['diff'])
    fixed = [entry for entry in results if entry['host'] != 'lab-down']
    second = run_module(capsys, tmp_path, {'results': fixed, 'dest': str(dest), 'generated_at': STAMP}, diff=True, check_mode=True)
    assert set(second['diff']['before']['hosts']) == {'lab-clean', 'lab-down', 'lab-legacy', 'lab-stock'}
    assert set(second['diff']['after']['hosts']) == {'lab-clean', 'lab-legacy', 'lab-stock'}
    assert second['diff']['before_header'] == '%s (summary)' % (dest / 'report.json')


def test_generated_at_defaults_to_utc_now(capsys, tmp_path):
    run_module(capsys, tmp_path, {'results': [], 'dest': str(tmp_path / 'out'), 'formats': ['json']})
    report = json.loads((tmp_path / 'out' / 'report.json').read_text())
    assert re.fullmatch(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ', report['generated_at'])
    assert report['drift'] is False


def test_dest_that_is_a_file(capsys, tmp_path):
    (tmp_path / 'file').write_text('')
    result = run_module(capsys, tmp_path, {'results': [], 'dest': str(tmp_path / 'file')})
    assert result['failed'] is True
    assert result['msg'] == 'dest %s exists and is not a directory; give the directory the reports go to.' % (tmp_path / 'file')


def test_results_that_break_the_contract(capsys, tmp_path):
    result = run_module(capsys, tmp_path, {'results': [{'host': 'a', 'findings': [{'id': 'SM-X-01', 'status': 'odd'}]}],
                                           'dest': str(tmp_path / 'out')})
    assert result['failed'] is True
    assert result['msg'].startswith("The results cannot be reported: host a: finding SM-X-01 has status 'odd'")
    assert not (tmp_path / 'out').exists()
