# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report writer's results of a play's hosts, read from their registered sendmail_drift results."""

from __future__ import annotations

import json

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import ReportError
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_files import NOT_AUDITED, play_results, prepare

FINDING = {'id': 'SM-QUEUE-01', 'title': 't', 'family': 'queue', 'severity': 'high', 'status': 'fail', 'expected': 'e',
           'actual': 'a', 'path': None, 'evidence': 'x', 'references': [], 'fix': 'f', 'waiver': None}


def test_every_host_of_the_play_once_sorted_and_the_lost_ones_not_audited():
    registered = {
        'mx2': {'findings': [FINDING], 'counts': {'fail': 1}, 'drift': True, 'sendmail': {'installed': True}},
        'mx1': {'unreachable': True, 'msg': 'Failed to connect to the host via ssh'},
        'mx3': {'failed': True, 'msg': 'MODULE FAILURE'},
    }
    entries = play_results(['mx3', 'mx2', 'mx1', 'mx4'], ['mx1', 'mx2', 'mx3'], registered.get)
    assert [(e['host'], e['reachable']) for e in entries] == [('mx1', False), ('mx2', True), ('mx3', False), ('mx4', False)]
    assert entries[0]['msg'] == 'Failed to connect to the host via ssh'
    assert entries[1]['findings'] == [FINDING] and entries[1]['drift'] is True
    assert entries[2]['msg'] == 'MODULE FAILURE'
    assert entries[3]['msg'] == NOT_AUDITED  # left the play before the audit: no registered result at all


def test_prepare_lists_only_the_files_whose_content_changes(tmp_path):
    results = play_results(['mx1'], ['mx1'], {'mx1': {'findings': [FINDING]}}.get)
    done, contents = prepare(results, str(tmp_path), ['json', 'md'], 'site', '2026-12-01T00:00:00Z', '1.0')
    assert sorted(done['files']) == ['json', 'md'] and done['written'] == sorted(contents)
    for path, data in contents.items():
        with open(path, 'wb') as handle:
            handle.write(data)
    again, _contents = prepare(results, str(tmp_path), ['json', 'md'], 'site', '2026-12-01T00:00:00Z', '1.0')
    assert again['written'] == [] and again['hosts'][0]['failing'] == ['SM-QUEUE-01']


def test_a_host_without_sendmail_is_reported_apart():
    bare = dict(FINDING, status='not_applicable')
    results = play_results(['mx1', 'bare'], ['mx1', 'bare'], {
        'mx1': {'findings': [dict(FINDING, status='pass')], 'sendmail': {'installed': True}},
        'bare': {'findings': [bare], 'sendmail': {'installed': False, 'reason': '/usr/sbin/sendmail does not exist'}}}.get)
    done, _contents = prepare(results, '/nonexistent', ['json'], 'site', '2026-12-01T00:00:00Z', '1.0')
    assert [(host['host'], host['verdict']) for host in done['hosts']] == [('bare', 'no_sendmail'), ('mx1', 'compliant')]
    assert done['hosts'][0]['summary'] == 'bare: NO SENDMAIL (/usr/sbin/sendmail does not exist)'
    assert (done['totals']['hosts_compliant'], done['totals']['hosts_no_sendmail'], done['drift']) == (1, 1, False)


def test_the_controls_left_out_follow_the_results_through():
    excluded = [{'id': 'SM-SMTP-01', 'title': 'PrivacyOptions'}]
    results = play_results(['mx1'], ['mx1'], {'mx1': {'findings': [dict(FINDING, status='pass')], 'excluded': excluded}}.get)
    assert results[0]['excluded'] == excluded
    done, _contents = prepare(results, '/nonexistent', ['json'], 'site', '2026-12-01T00:00:00Z', '1.0')
    assert done['hosts'][0]['excluded'] == ['SM-SMTP-01'] and done['hosts'][0]['waived'] == []
    assert done['excluded'] == [{'id': 'SM-SMTP-01', 'title': 'PrivacyOptions', 'hosts': ['mx1']}]


def test_the_address_and_the_audit_times_reach_the_report_where_known():
    registered = {'mx1': {'findings': [FINDING], 'audited': {'start': '2026-12-01T07:59:58Z', 'end': '2026-12-01T07:59:59Z'}},
                  'mx2': {'findings': [FINDING], 'audited': {'start': 'yesterday', 'end': '2026-12-01T07:59:59Z'}},
                  'mx3': {'unreachable': True, 'msg': 'down'}}
    addresses = {'mx1': '127.0.0.2', 'mx3': 'mx3.example.org'}
    results = play_results(['mx1', 'mx2', 'mx3'], ['mx1', 'mx2'], registered.get, addresses.get)
    done, contents = prepare(results, '/nonexistent/reports', ['json'], 'site', '2026-12-01T08:00:00Z', '1.0')
    report = json.loads(next(iter(contents.values())))
    hosts = {host['host']: host for host in report['hosts']}
    assert hosts['mx1']['address'] == '127.0.0.2'
    assert hosts['mx1']['audited'] == {'start': '2026-12-01T07:59:58Z', 'end': '2026-12-01T07:59:59Z'}
    assert 'audited' not in hosts['mx2'] and 'address' not in hosts['mx2']  # a time that is none is left out
    assert hosts['mx3']['address'] == 'mx3.example.org' and not hosts['mx3']['reachable']
    assert done['hosts'][0]['host'] == 'mx1'


def test_a_time_of_the_run_that_is_no_utc_time_is_refused_before_anything_is_written():
    results = play_results(['mx1'], ['mx1'], {'mx1': {'findings': [FINDING]}}.get)
    for stamp in ('2026-12-01', '2026-12-01 08:00:00', '2026-12-01T08:00:00'):
        try:
            prepare(results, '/nonexistent/reports', ['json'], 'site', stamp, '1.0')
        except ReportError as exc:
            assert 'is not a UTC time as YYYY-MM-DDTHH:MM:SSZ' in str(exc)
        else:
            raise AssertionError('%s was taken' % stamp)
