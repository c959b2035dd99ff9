# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The reports of job slices made one: each host once, the newest report's entry, totals counted again."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import ReportError, build_report, md_text, render
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_files import prepare, report_inputs
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_merge import merge
from ansible_collections.mailsec.sendmail.tests.unit.plugins.module_utils.test__report_delta import run

EARLY, LATE, LATEST = '2026-12-01T08:00:00Z', '2026-12-01T08:05:00Z', '2026-12-01T08:09:00Z'


def _write(tmp_path, name, report) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(report))
    return str(path)


@pytest.fixture(name='slices')
def fixture_slices(tmp_path):
    """Three slices; mx1 is in the first (older, failing A) and the third (newer, passing)."""
    return [_write(tmp_path, 'one.json', run({'mx1': {'A': 'fail'}, 'mx2': {'A': 'pass'}}, EARLY)),
            _write(tmp_path, 'two.json', run({'mx3': None}, LATEST)),
            _write(tmp_path, 'three.json', run({'mx4': {'A': 'fail'}, 'mx1': {'A': 'pass'}}, LATE))]


def test_each_host_once_from_the_newest_report_and_totals_again(slices):
    results, merged, stamp = report_inputs({'merge': slices})
    assert [entry['host'] for entry in results] == ['mx1', 'mx2', 'mx3', 'mx4']
    assert stamp == LATEST
    report = build_report(results, stamp)
    assert [finding['status'] for finding in report['hosts'][0]['findings']] == ['pass']  # mx1 from three.json, the newer
    assert report['totals']['hosts'] == 4 and report['totals']['hosts_drift'] == 2  # mx4 fails, mx3 not audited
    assert merged['sources'] == [{'path': slices[0], 'generated_at': EARLY, 'hosts': 2, 'hosts_no_sendmail': 0},
                                 {'path': slices[1], 'generated_at': LATEST, 'hosts': 1, 'hosts_no_sendmail': 0},
                                 {'path': slices[2], 'generated_at': LATE, 'hosts': 2, 'hosts_no_sendmail': 0}]
    assert merged['duplicates'] == [{'host': 'mx1', 'kept_from': slices[2], 'generated_at': LATE, 'left_out': [slices[0]]}]
    assert merged['kept'] == {'mx1': slices[2], 'mx2': slices[0], 'mx3': slices[1], 'mx4': slices[2]}


def test_a_tie_goes_to_the_later_file():
    one, two = run({'mx1': {'A': 'fail'}}, EARLY), run({'mx1': {'A': 'pass'}}, EARLY)
    results, merged = merge([('a', one), ('b', two)])
    assert results[0]['findings'][0]['status'] == 'pass' and merged['duplicates'][0]['kept_from'] == 'b'


def test_every_format_says_what_was_merged(slices, tmp_path):
    results, merged, stamp = report_inputs({'merge': slices})
    result, contents = prepare(results, str(tmp_path / 'out'), ['json', 'junit', 'md', 'html'], 'mailsec.sendmail', stamp, None,
                               merged=merged)
    assert result['merged']['duplicates'][0]['host'] == 'mx1'
    texts = {path.rsplit('/', 1)[1]: data.decode() for path, data in contents.items()}
    assert json.loads(texts['report.json'])['merged']['kept']['mx4'] == slices[2]
    assert '- **Merged:** 3 reports: ' in texts['report.md']
    assert md_text('mx1 from %s (left out: %s)' % (slices[2], slices[0])) in texts['report.md']
    assert '<p class="facts">Merged from 3 reports: ' in texts['report.html']
    suites = {suite.get('name'): suite for suite in ET.fromstring(texts['junit.xml'].split('\n', 1)[1]).iter('testsuite')}
    merged_from = {p.get('name'): p.get('value') for p in suites['mx2'].iter('property')}['merged_from']
    assert merged_from == slices[0]


def test_an_unmerged_report_says_nothing_of_merging():
    texts = render(run({'mx1': {'A': 'pass'}}, EARLY), ['md', 'html', 'junit'])
    assert 'Merged' not in texts['report.md'] + texts['report.html'] and 'merged_from' not in texts['junit.xml']


@pytest.mark.parametrize('data, message', [
    (None, 'merge %s cannot be read'), ('{', 'merge %s is not JSON'), ('{"schema": "x"}', 'merge %s is not an audit report.json'),
])
def test_what_is_not_a_report_is_named(tmp_path, data, message):
    path = tmp_path / 'report.json'
    if data is not None:
        path.write_text(data)
    with pytest.raises(ReportError, match=re.escape(message % path)):
        report_inputs({'merge': [str(path)]})


def test_no_reports_and_no_results_are_errors():
    with pytest.raises(ReportError, match='no report.json given'):
        merge([])
    with pytest.raises(ReportError, match='result_var needs the controller'):
        report_inputs({'results': None, 'merge': None})


def test_hosts_without_sendmail_stay_apart_in_a_merge_of_old_and_new_reports(tmp_path):
    """An earlier report.json (before verdicts and hosts_no_sendmail) merged with a newer one: both load, and the
    host without sendmail is counted as such, not as meeting the baseline."""
    old = run({'mx1': {'A': 'pass'}, 'bare': {'A': 'not_applicable'}}, EARLY)
    for entry in old['hosts']:
        del entry['verdict']
        if entry['host'] == 'bare':
            entry['sendmail'] = {'installed': False, 'version': None, 'drop_method': None}
    del old['totals']['hosts_no_sendmail']
    new = run({'mx2': {'A': 'pass'}}, LATE)
    results, merged, stamp = report_inputs({'merge': [_write(tmp_path, 'old.json', old), _write(tmp_path, 'new.json', new)]})
    report = build_report(results, stamp)
    verdicts = {host['host']: host['verdict'] for host in report['hosts']}
    assert verdicts == {'bare': 'no_sendmail', 'mx1': 'compliant', 'mx2': 'compliant'}
    assert (report['totals']['hosts_compliant'], report['totals']['hosts_no_sendmail']) == (2, 1)
    assert merged['sources'][0]['hosts_no_sendmail'] == 1 and merged['sources'][1]['hosts_no_sendmail'] == 0
    report['merged'] = merged
    assert '(%s, 2 hosts, 1 without sendmail)' % EARLY in render(report, ['md'])['report.md']
