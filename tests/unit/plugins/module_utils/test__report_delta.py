# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What changed since the last audit: new, fixed and still open drift, open_since carried forward, in every format."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import ReportError, build_report, render
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import compare, days_between
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_files import prepare

FIRST, SECOND, THIRD = '2026-10-01T08:00:00Z', '2026-11-01T08:00:00Z', '2026-12-01T08:00:00Z'


def finding(ident, status):
    return {'id': ident, 'title': 'Control %s' % ident, 'family': 'files', 'severity': 'high', 'status': status,
            'expected': 'e', 'actual': 'a', 'path': None, 'evidence': 'x', 'references': [], 'fix': 'f', 'waiver': None}


def run(statuses: dict, stamp: str, previous=None) -> dict:
    """A report of hosts given as {host: {control: status}} (None: not audited), compared with ``previous``."""
    results = [{'host': name, 'reachable': False, 'msg': 'down'} if controls is None else
               {'host': name, 'findings': [finding(ident, status) for ident, status in controls.items()]}
               for name, controls in statuses.items()]
    report = build_report(results, stamp)
    if previous is not None:
        compare(report, json.loads(json.dumps(previous)), '/srv/audit/report.json')
    return report


def pairs(items):
    return [(item['host'], item['id']) for item in items]


def test_new_fixed_and_still_open_with_open_since_carried_forward():
    first = run({'mx1': {'A': 'fail', 'B': 'fail', 'C': 'pass'}, 'mx2': {'A': 'pass'}}, FIRST)
    second = run({'mx1': {'A': 'fail', 'B': 'pass', 'C': 'error'}, 'mx2': {'A': 'pass'}}, SECOND, first)
    delta = second['delta']
    assert pairs(delta['new']) == [('mx1', 'C')]
    assert pairs(delta['fixed']) == [('mx1', 'B')]
    assert [(i['host'], i['id'], i['open_since'], i['open_days']) for i in delta['still_open']] == [('mx1', 'A', FIRST, 31)]
    assert delta['compared_with'] == {'path': '/srv/audit/report.json', 'generated_at': FIRST}
    third = run({'mx1': {'A': 'fail', 'B': 'pass', 'C': 'error'}, 'mx2': {'A': 'fail'}}, THIRD, second)
    still = {(i['host'], i['id']): i for i in third['delta']['still_open']}
    assert still[('mx1', 'A')]['open_since'] == FIRST and still[('mx1', 'A')]['open_days'] == 61  # from the first report that showed it
    assert still[('mx1', 'C')]['open_since'] == SECOND
    assert pairs(third['delta']['new']) == [('mx2', 'A')] and third['delta']['fixed'] == []


def test_hosts_audited_in_one_run_only_are_not_compared():
    first = run({'mx1': {'A': 'fail'}, 'mx2': None, 'mx3': {'A': 'fail'}}, FIRST)
    second = run({'mx1': None, 'mx2': {'A': 'fail'}, 'mx4': {'A': 'pass'}}, SECOND, first)
    delta = second['delta']
    assert delta['not_compared'] == ['mx1', 'mx2'] and delta['hosts_gone'] == ['mx3']
    assert delta['new'] == [] and delta['fixed'] == [] and delta['still_open'] == []


def test_every_format_says_what_changed():
    first = run({'mx1': {'A': 'fail', 'B': 'fail'}}, FIRST)
    second = run({'mx1': {'A': 'fail', 'B': 'pass', 'C': 'fail'}}, SECOND, first)
    texts = render(second, ['json', 'junit', 'md', 'html'])
    data = json.loads(texts['report.json'])
    assert pairs(data['delta']['new']) == [('mx1', 'C')]
    assert {item['id']: item.get('open_since') for item in data['hosts'][0]['findings']} == {'A': FIRST, 'B': None, 'C': SECOND}
    suite = ET.fromstring(texts['junit.xml']).find('testsuite')
    properties = {p.get('name'): p.get('value') for p in suite.find('properties')}
    assert (properties['drift_new'], properties['drift_fixed'], properties['drift_still_open']) == ('C', 'B', 'A')
    cases = {case.get('name').split()[0]: case for case in suite.findall('testcase')}
    assert cases['A'].find('failure').get('message').startswith('[open since %s (31 days)] ' % FIRST)
    assert cases['C'].find('failure').get('message').startswith('[new since %s] ' % FIRST)
    assert cases['B'].find('system-out').text == 'fixed since %s\n' % FIRST
    md = texts['report.md']
    assert '## Since the last audit' in md and '### New drift (1)' in md and '### Fixed (1)' in md
    assert '| mx1 | A | Control A | %s (31 days) |' % FIRST in md
    page = texts['report.html']
    assert '<h2>Since the last audit</h2>' in page and 'class="s-fail nw"' in page
    assert '<summary>New drift (1)</summary>' in page


def test_an_earlier_report_that_is_not_one_is_a_clear_error(tmp_path):
    (tmp_path / 'bad.json').write_text('{"hosts": 3}')
    (tmp_path / 'text.json').write_text('not json')
    results = [{'host': 'mx1', 'findings': [finding('A', 'pass')]}]
    for name, message in (('bad.json', 'is not an audit report.json'), ('text.json', 'is not JSON'), ('absent.json', 'cannot be read')):
        with pytest.raises(ReportError, match=message):
            prepare(results, str(tmp_path), ['json'], 'b', SECOND, None, str(tmp_path / name))


def test_days_between():
    assert days_between(FIRST, SECOND) == 31 and days_between('2026-12-01', THIRD) == 0
    assert days_between(None, THIRD) is None and days_between('yesterday', THIRD) is None
