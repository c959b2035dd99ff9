# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from ansible_collections.mailsec.sendmail.plugins.module_utils import _report
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_html import render_html
from ansible_collections.mailsec.sendmail.plugins.module_utils._report import (
    FORMATS, ReportError, build_report, clean, host_line, md_code, md_text, render, render_json, render_junit,
    render_markdown, summary,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures', 'report')
STAMP = '2025-11-25T10:00:00Z'
HOSTILE = '<script>alert("x")</script> & "quoted" \'single\' | `tick` **bold** ]]> \x01'


def load_results() -> list:
    with open(os.path.join(FIXTURES, 'results.json'), encoding='utf-8') as handle:
        return json.load(handle)


@pytest.fixture
def results():
    return load_results()


@pytest.fixture
def report(results):
    return build_report(results, STAMP, '0.1.0', 'mailsec.sendmail')


def finding(ident='SM-X-01', status='pass', **extra):
    base = {'id': ident, 'title': 'A control', 'family': 'files', 'severity': 'high', 'status': status, 'expected': 'root 0644',
            'actual': 'root 0644', 'path': '/etc/mail/sendmail.cf', 'evidence': '', 'references': [], 'fix': '', 'waiver': None}
    base.update(extra)
    return base


def host(name, findings, **extra):
    entry = {'host': name, 'reachable': True, 'sendmail': {'installed': True, 'version': '8.17.1.9', 'drop_method': 'seteuid'},
             'findings': findings}
    entry.update(extra)
    return entry


# --- the report object ---------------------------------------------------------------------

def test_hosts_and_controls_sorted(report):
    assert [item['host'] for item in report['hosts']] == ['lab-clean', 'lab-down', 'lab-legacy', 'lab-stock']
    for item in report['hosts']:
        ids = [entry['id'] for entry in item['findings']]
        assert ids == sorted(ids)


def test_counts_and_totals(report):
    legacy = report['hosts'][2]
    assert legacy['counts'] == {'pass': 3, 'fail': 7, 'error': 0, 'not_applicable': 1, 'waived': 1}
    assert legacy['drift'] is True
    assert report['hosts'][0]['drift'] is False
    assert report['totals'] == {
        'hosts': 4, 'hosts_drift': 3, 'hosts_unreachable': 1, 'hosts_compliant': 1, 'hosts_no_sendmail': 0, 'findings': 36,
        'controls_excluded': 0, 'controls_waived': 1, 'pass': 23, 'fail': 8, 'error': 1, 'not_applicable': 3, 'waived': 1,
    }
    assert report['drift'] is True
    assert report['schema'] == _report.SCHEMA


def test_counts_recomputed_not_trusted():
    report = build_report([host('a', [finding(status='fail')], counts={'fail': 0}, drift=False)], STAMP)
    assert report['hosts'][0]['counts']['fail'] == 1
    assert report['hosts'][0]['drift'] is True


def test_unreachable_host_counts_as_drift(report):
    down = report['hosts'][1]
    assert down['reachable'] is False
    assert down['drift'] is True
    assert down['findings'] == []
    assert down['msg'].startswith('Failed to connect')


def test_no_hosts():
    report = build_report([], STAMP)
    assert report['drift'] is False
    assert report['totals']['hosts'] == 0
    assert report['collection_version'] == 'unknown'
    for text in render(report, FORMATS).values():
        assert text


@pytest.mark.parametrize('results, message', [
    ('not a list', 'results must be a list'),
    ([{'reachable': True, 'findings': []}], 'every result needs a host name'),
    ([host('a', None)], 'host a is reachable but has no list of findings'),
    ([host('a', [finding(status='broken')])], "finding SM-X-01 has status 'broken'"),
    ([host('a', [{'status': 'pass'}])], 'every finding needs an id'),
    ([host('a', [finding(), finding()])], 'host a has the same control id twice'),
    ([host('a', []), host('a', [])], 'hosts appear more than once in results: a'),
    ([host('a', [finding(waiver='W-1')])], 'a waiver must be a dict'),
])
def test_contract_errors(results, message):
    with pytest.raises(ReportError, match=re.escape(message)):
        build_report(results, STAMP)


def test_clean_replaces_characters_xml_cannot_hold():
    assert clean('a\x00b\x1bc\td\ne\ud800') == 'a\ufffdb\ufffdc\td\ne\ufffd'
    assert clean(None) == ''
    assert clean(7) == '7'


def test_host_lines(report):
    assert [host_line(item) for item in report['hosts']] == [
        'lab-clean: compliant, 12 controls: 11 pass, 0 fail, 0 error, 1 n/a, 0 waived',
        'lab-down: NOT AUDITED (Failed to connect to the host via ssh: ssh: connect to host 127.0.0.9 port 22: Connection refused)',
        'lab-legacy: DRIFT, 12 controls: 3 pass, 7 fail, 0 error, 1 n/a, 1 waived '
        '[SM-FILES-01, SM-FILES-02, SM-QUEUE-01, SM-QUEUE-02, SM-RUNAS-01, SM-SAFE-01, SM-SUID-01]; waived: SM-SUID-02',
        'lab-stock: DRIFT, 12 controls: 9 pass, 1 fail, 1 error, 1 n/a, 0 waived [SM-RUNAS-01, SM-SUID-02]',
    ]


def test_summary_has_no_timestamp(report, results):
    later = build_report(results, '2030-01-01T00:00:00Z', '0.1.0', 'mailsec.sendmail')
    assert summary(report) == summary(later)
    assert summary(report)['hosts']['lab-stock'] == {
        'reachable': True, 'drift': True, 'verdict': 'drift',
        'counts': {'pass': 9, 'fail': 1, 'error': 1, 'not_applicable': 1, 'waived': 0}, 'failing': ['SM-RUNAS-01', 'SM-SUID-02'],
    }


# --- determinism ---------------------------------------------------------------------------

def test_same_input_same_output_whatever_the_order(results):
    first = render(build_report(results, STAMP, '0.1.0', 'b'), FORMATS)
    shuffled = copy.deepcopy(results)
    shuffled.reverse()
    for entry in shuffled:
        entry.get('findings', []).reverse()
    second = render(build_report(shuffled, STAMP, '0.1.0', 'b'), FORMATS)
    assert first == second


def test_render_selects_formats(report):
    assert list(render(report, ['html', 'json'])) == ['report.json', 'report.html']
    with pytest.raises(ReportError, match='unknown report formats: pdf'):
        render(report, ['pdf'])


# --- JSON ----------------------------------------------------------------------------------

def test_json_round_trip(report):
    text = render_json(report)
    assert text.endswith('}\n')
    assert json.loads(text) == report
    assert '\\u0001' not in text and '\ufffd' in text


# --- JUnit ---------------------------------------------------------------------------------

# What the JUnit schema of Jenkins (junit-10.xsd) allows: children and attributes of each element.
JUNIT_CHILDREN = {
    'testsuites': {'testsuite'},
    'testsuite': {'testsuite', 'properties', 'testcase', 'system-out', 'system-err'},
    'properties': {'property'},
    'property': set(),
    'testcase': {'skipped', 'error', 'failure', 'system-out', 'system-err'},
    'failure': set(), 'error': set(), 'skipped': set(),
}
JUNIT_ATTRIBUTES = {
    'testsuites': ({'name', 'time', 'tests', 'failures', 'errors'}, set()),
    'testsuite': ({'name', 'tests', 'failures', 'errors', 'group', 'time', 'skipped', 'timestamp', 'hostname', 'id', 'package',
                   'file', 'log', 'url'}, {'name', 'tests', 'failures', 'errors'}),
    'properties': (set(), set()),
    'property': ({'name', 'value'}, {'name', 'value'}),
    'testcase': ({'name', 'time', 'classname', 'group'}, {'name'}),
    'failure': ({'type', 'message'}, set()), 'error': ({'type', 'message'}, set()), 'skipped': ({'type', 'message'}, set()),
}
SUREFIRE_TIME = re.compile(r'(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]*)?')


def check_junit_schema(element):
    """Fail unless ``element`` and its subtree follow junit-10.xsd."""
    allowed, required = JUNIT_ATTRIBUTES[element.tag]
    assert set(element.attrib) <= allowed, (element.tag, set(element.attrib) - allowed)
    assert required <= set(element.attrib), (element.tag, required - set(element.attrib))
    if 'time' in element.attrib and element.tag != 'testcase':
        assert SUREFIRE_TIME.fullmatch(element.get('time'))
    for child in element:
        assert child.tag in JUNIT_CHILDREN[element.tag], (element.tag, child.tag)
        check_junit_schema(child)
    if element.tag in ('testsuites', 'properties', 'property'):
        assert not (element.text or '').strip()


def parse_junit(report):
    text = render_junit(report)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(text.encode('utf-8'))
    check_junit_schema(root)
    return root


def test_junit_follows_the_schema_and_counts(report):
    root = parse_junit(report)
    assert root.tag == 'testsuites'
    suites = root.findall('testsuite')
    assert [suite.get('name') for suite in suites] == ['lab-clean', 'lab-down', 'lab-legacy', 'lab-stock']
    for suite in suites:
        cases = suite.findall('testcase')
        assert int(suite.get('tests')) == len(cases)
        assert int(suite.get('failures')) == sum(1 for case in cases if case.find('failure') is not None)
        assert int(suite.get('errors')) == sum(1 for case in cases if case.find('error') is not None)
        assert int(suite.get('skipped')) == sum(1 for case in cases if case.find('skipped') is not None)
        assert {case.get('classname') for case in cases} == {'mailsec.sendmail.' + suite.get('name')}
        assert all(len(case) <= 1 for case in cases)
    for name in ('tests', 'failures', 'errors'):
        assert int(root.get(name)) == sum(int(suite.get(name)) for suite in suites)
    assert (root.get('tests'), root.get('failures'), root.get('errors')) == ('37', '8', '2')


def test_junit_failure_error_and_skips(report):
    root = parse_junit(report)
    legacy = {case.get('name').split()[0]: case for case in root.findall("testsuite[@name='lab-legacy']/testcase")}
    failure = legacy['SM-QUEUE-01'].find('failure')
    assert failure.get('type') == 'drift'
    assert failure.get('message') == 'expected mode 0700 or 2750, owner root or RunAsUser, found root:smmsp 0777'
    assert 'evidence:\n  drwxrwxrwx 2 root smmsp 4096 /var/spool/mqueue\n' in failure.text
    assert 'fix:      chmod 0700 /var/spool/mqueue\n' in failure.text
    assert legacy['SM-QUEUE-01'].get('name') == 'SM-QUEUE-01 The MTA queue is not group- or world-writable'
    assert legacy['SM-SUID-02'].find('skipped').get('message') == (
        'waived by W-2024-07 until 2099-12-31: procmail delivery still needs it; ticket SEC-311')
    assert legacy['SM-RH-01'].find('skipped').get('message').startswith('not applicable: Debian host')
    assert len(legacy['SM-LOG-01']) == 0
    stock = {case.get('name').split()[0]: case for case in root.findall("testsuite[@name='lab-stock']/testcase")}
    assert stock['SM-RUNAS-01'].find('error').get('type') == 'error'
    assert 'waiver:   W-2023-01 expired on 2023-01-31 (old exception)' in stock['SM-SUID-02'].find('failure').text


def test_waivers_named_by_their_control():
    waived = finding('SM-A-01', status='waived', waiver={'id': 'SM-A-01', 'reason': 'r & d', 'expires': '2099-01-01', 'expired': False})
    expired = finding('SM-B-01', status='fail', waiver={'id': 'SM-B-01', 'reason': 'old', 'expires': '2020-01-01', 'expired': True})
    report = build_report([host('a', [waived, expired])], STAMP)
    cases = {case.get('name').split()[0]: case for case in parse_junit(report).findall('testsuite/testcase')}
    assert cases['SM-A-01'].find('skipped').get('message') == 'waived until 2099-01-01: r & d'
    assert 'waiver:   expired on 2020-01-01 (old)' in cases['SM-B-01'].find('failure').text
    text = render_markdown(report)
    assert '| Control | Title | Reason | Expires |\n|---|---|---|---|\n| SM-A-01 | A control | r &amp; d | 2099-01-01 |' in text
    assert '- **Waiver expired on 2020-01-01:** old' in text
    page = render_html(report)
    assert '<th>Waiver</th>' not in page
    assert 'EXPIRED</span> expired on 2020-01-01: old' in page


def test_junit_unreachable_host(report):
    suite = parse_junit(report).find("testsuite[@name='lab-down']")
    (case,) = suite.findall('testcase')
    assert case.get('name') == 'host audited'
    assert case.find('error').get('type') == 'unreachable'
    assert 'Connection refused' in case.find('error').get('message')
    assert (suite.get('tests'), suite.get('errors'), suite.get('failures')) == ('1', '1', '0')


def test_junit_escapes_hostile_text():
    hostile = build_report([host(HOSTILE, [finding(status='fail', title=HOSTILE, evidence=HOSTILE, actual=HOSTILE, fix=HOSTILE)])], STAMP)
    text = render_junit(hostile)
    assert '<script>' not in text
    assert '\x01' not in text
    root = parse_junit(hostile)
    case = root.find('testsuite/testcase')
    assert case.get('classname') == 'mailsec.sendmail.' + clean(HOSTILE)
    assert case.get('name') == 'SM-X-01 ' + clean(HOSTILE)
    assert clean(HOSTILE) in case.find('failure').text
    assert case.find('failure').get('message').endswith(clean(HOSTILE))


def test_junit_keeps_newlines_in_attributes():
    report = build_report([host('a', [finding(status='not_applicable', evidence='line one\nline two')])], STAMP)
    assert parse_junit(report).find('testsuite/testcase/skipped').get('message') == 'not applicable: line one\nline two'


# --- Markdown ------------------------------------------------------------------------------

def test_markdown_summary_table(report):
    text = render_markdown(report)
    assert '- **Result:** Drift on 3 of 4 hosts, 1 control waived: SM-SUID-02\n' in text
    assert '| lab-legacy | yes | 3 | 7 | 0 | 1 | 1 |\n' in text
    assert '| lab-clean | no | 11 | 0 | 0 | 0 | 1 |\n' in text
    assert '| lab-down | not audited | | | | | |\n' in text
    assert '| **Total** | 3 of 4 | 23 | 8 | 1 | 1 | 3 |\n' in text


def test_markdown_host_sections(report):
    text = render_markdown(report)
    legacy = text.split('## lab-legacy\n')[1].split('\n## ')[0]
    assert '### Controls that fail (7)' in legacy
    # high severity first, then medium
    assert legacy.index('FAIL SM-SUID-01') < legacy.index('FAIL SM-QUEUE-02')
    assert '- **Expected:** `smmsp:smmsp 0770`\n- **Actual:** `root:smmsp 0777`\n' in legacy
    assert '- **Fix:** chown smmsp:smmsp /var/spool/mqueue-client &amp;&amp; chmod 0770 /var/spool/mqueue-client\n' in legacy
    assert '- **References:** sendmail, 4th ed., 4.1.1; STIG V-4689\n' in legacy
    assert '```text\ndrwxrwxrwx 2 root smmsp 4096 /var/spool/mqueue\n```' in legacy
    assert ('| SM-SUID-02 | No other set-user-id root program in the sendmail packages | W-2024-07 | '
            'procmail delivery still needs it; ticket SEC-311 | 2099-12-31 |') in legacy
    assert 'SM-LOG-01' not in legacy
    assert '**Not audited:** Failed to connect' in text
    assert '## lab-clean\n\nsendmail 8.18.1, privilege drop method seteuid.\n\nNo control fails.\n' in text
    assert '- **Waiver W-2023-01 expired on 2023-01-31:** old exception' in text


def test_markdown_escapes_hostile_text():
    report = build_report([host('a|b', [finding(status='fail', title=HOSTILE, fix=HOSTILE, evidence='```\n' + HOSTILE, actual='a`b')])], STAMP)
    text = render_markdown(report)
    assert '<script>' not in text.replace('```text\n```\n<script>', '')
    assert '| a\\|b | yes |' in text
    assert md_text(HOSTILE) in text
    assert '````text\n```\n' + clean(HOSTILE) + '\n````' in text
    assert '- **Actual:** ``a`b``' in text


def test_markdown_helpers():
    assert md_text('<b>a_b*c</b> & [x](y)|z\nnext') == '&lt;b&gt;a\\_b\\*c&lt;/b&gt; &amp; \\[x\\](y)\\|z next'
    assert md_code('`edge`') == '`` `edge` ``'
    assert md_code('') == '` `'


# --- HTML ----------------------------------------------------------------------------------

class Collector(HTMLParser):
    """Tags, attributes and text of a page; fails on unbalanced tags."""

    VOID = {'meta', 'br', 'hr', 'img', 'link', 'input'}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.text, self.stack = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (self.stack[-3:], tag)
        self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def parse_html(text):
    collector = Collector()
    collector.feed(text)
    collector.close()
    assert collector.stack == []
    return collector


def scripts(text):
    return re.findall(r'<script>(.*?)</script>', text, re.S)


def test_html_is_self_contained(report):
    """Nothing fetched from anywhere; the one inline script is allowed by its hash, nothing else may run."""
    text = render_html(report)
    page = parse_html(text)
    assert page.tags.count('script') == 1
    for tag in ('link', 'img', 'iframe', 'object', 'embed', 'svg'):
        assert tag not in page.tags
    for name, value in page.attrs:
        assert name not in ('src', 'srcset') and not name.startswith('on'), (name, value)
        if name == 'href':
            assert value.startswith('#')
    assert not re.search(r'url\(|@import|https?://', text)
    (script,) = scripts(text)
    digest = base64.b64encode(hashlib.sha256(script.encode('utf-8')).digest()).decode('ascii')
    assert "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-%s'" % digest in text
    assert 'fetch(' not in script and 'XMLHttpRequest' not in script and 'eval(' not in script
    assert page.tags.count('style') == 1


def test_html_opens_with_the_matrix_hosts_grouped_by_failing_set(report):
    text = render_html(report)
    assert text.index('id="matrix"') < text.index('<details class="host"')
    matrix = text.split('id="matrix"')[1].split('</table>')[0]
    groups = re.findall(r'<tr class="g"><td colspan="\d+">([^<]*)</td></tr>', matrix)
    assert groups[0] == '1 host not audited' and groups[-1] == '1 host meeting the baseline'
    assert len(groups) == 4 and all(' failing ' in label for label in groups[1:-1])
    assert matrix.count('<tr data-host=') == 4
    controls = re.findall(r'<th class="c" data-col="(\d+)" data-control="([^"]+)" data-family="(\w+)" data-severity="(\w+)"', matrix)
    assert [int(col) for col, *_rest in controls] == list(range(len(controls)))
    assert [control for _col, control, *_rest in controls] == sorted(control for _col, control, *_rest in controls)
    legacy = re.search(r'<tr data-host="lab-legacy">(.*?)</tr>', matrix).group(1)
    assert legacy.count('class="s-fail') == 7 and legacy.count('class="s-waived') == 1
    for name in ('f-control', 'f-family', 'f-severity', 'f-host'):
        assert 'id="%s"' % name in text


def test_html_host_details_are_collapsed(report):
    text = render_html(report)
    assert text.count('<details class="host" id="host-') == 4 and '<details class="host" id="host-0" open' not in text
    assert re.search(r'<a href="#host-(\d+)">lab-legacy</a>', text).group(1) in re.findall(r'id="host-(\d+)"', text)


def test_html_content(report):
    text = render_html(report)
    page = parse_html(text)
    words = ' '.join(' '.join(page.text).split())
    assert 'Drift on 3 of 4 hosts' in words
    assert 'NOT AUDITED' in words and 'COMPLIANT' in words
    assert 'Controls that fail (7)' in words
    assert 'Waived controls (1)' in words
    assert '<summary>Passing controls (3)</summary>' in text
    assert '<summary>Passing controls (11)</summary>' in text
    assert 'chmod 0700 /var/spool/mqueue' in words
    assert 'The audit could not run on this host: Failed to connect' in words
    assert 'W-2023-01 expired on 2023-01-31: old exception' in words


def test_html_escapes_hostile_text():
    bad = build_report([host(HOSTILE, [finding(status='fail', title=HOSTILE, evidence=HOSTILE, fix=HOSTILE, references=[HOSTILE],
                                               path=HOSTILE)])], STAMP, HOSTILE, HOSTILE)
    text = render_html(bad)
    page = parse_html(text)
    assert page.tags.count('script') == 1 and 'b' not in page.tags
    assert '<script>alert' not in text
    assert '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quoted&quot;' in text
    assert '\x01' not in text
    assert clean(HOSTILE) in ''.join(page.text)


BARE = {'installed': False, 'version': None, 'drop_method': None, 'program': None, 'found': None,
        'reason': '/usr/sbin/sendmail does not exist', 'seen': None}
SEEN = dict(BARE, seen='a sendmail daemon runs (pid 123, /usr/lib/sm.bin/sendmail (deleted)) but /usr/sbin/sendmail does not exist')


def mixed_fleet():
    """A compliant host, a host without sendmail, and one whose daemon runs without its program."""
    return build_report([host('mx1', [finding()]), host('bare', [finding(status='not_applicable')], sendmail=BARE),
                         host('ghost', [finding(status='error', actual='cannot be audited: ' + SEEN['seen'])], sendmail=SEEN)],
                        STAMP)


def test_a_host_without_sendmail_is_not_compliant():
    report = mixed_fleet()
    verdicts = {item['host']: item['verdict'] for item in report['hosts']}
    assert verdicts == {'bare': 'no_sendmail', 'ghost': 'drift', 'mx1': 'compliant'}
    sums = report['totals']
    assert (sums['hosts_compliant'], sums['hosts_no_sendmail'], sums['hosts_drift']) == (1, 1, 1)
    alone = build_report([host('bare', [finding(status='not_applicable')], sendmail=BARE)], STAMP)
    assert alone['drift'] is False and alone['totals']['hosts_compliant'] == 0
    assert _report.verdict_text(alone) == 'The host has no sendmail'
    two = build_report([host('mx1', [finding()]), host('bare', [finding(status='not_applicable')], sendmail=BARE)], STAMP)
    assert _report.verdict_text(two) == '1 of 2 hosts meets the baseline, 1 host has no sendmail'
    assert _report.verdict_text(report) == 'Drift on 1 of 3 hosts, 1 host has no sendmail'


def test_host_lines_of_hosts_without_sendmail():
    lines = {item['host']: host_line(item) for item in mixed_fleet()['hosts']}
    assert lines['bare'] == 'bare: NO SENDMAIL (/usr/sbin/sendmail does not exist)'
    assert lines['ghost'] == 'ghost: DRIFT, sendmail cannot be audited: ' + SEEN['seen']


def test_an_old_report_without_verdicts_still_loads():
    old = {'host': 'bare', 'reachable': True, 'drift': False, 'sendmail': {'installed': False, 'version': None, 'drop_method': None},
           'counts': {'not_applicable': 1}, 'findings': [finding(status='not_applicable')]}
    report = build_report([old, host('mx1', [finding()])], STAMP)
    assert [item['verdict'] for item in report['hosts']] == ['no_sendmail', 'compliant']
    assert summary({'baseline': 'b', 'drift': False, 'totals': {}, 'hosts': [dict(old, host='bare')]})['hosts']['bare']['verdict'] is None


def test_junit_lists_a_host_without_sendmail_apart():
    suites = {suite.get('name'): suite for suite in parse_junit(mixed_fleet()).findall('testsuite')}
    properties = {name: {p.get('name'): p.get('value') for p in suite.iter('property')} for name, suite in suites.items()}
    assert {name: found['verdict'] for name, found in properties.items()} == {'bare': 'no_sendmail', 'ghost': 'drift', 'mx1': 'compliant'}
    cases = {case.get('name'): case for case in suites['bare'].findall('testcase')}
    assert cases['sendmail found'].find('skipped').get('message') == 'no sendmail on this host: /usr/sbin/sendmail does not exist'
    assert properties['ghost']['sendmail_seen'] == SEEN['seen']


def test_markdown_lists_hosts_without_sendmail_apart():
    text = render_markdown(mixed_fleet())
    assert '- **Result:** Drift on 1 of 3 hosts, 1 host has no sendmail\n' in text
    assert '| bare | no sendmail | 0 | 0 | 0 | 0 | 1 |\n' in text
    assert '- **Without sendmail** (not counted as meeting the baseline): bare\n' in text
    assert '## bare\n\nNo sendmail on this host: /usr/sbin/sendmail does not exist.\n' in text
    assert '**sendmail cannot be audited:** ' + md_text(SEEN['seen']) in text


def test_html_host_without_sendmail():
    report = build_report([host('bare', [finding(status='not_applicable')], sendmail=BARE)], STAMP)
    text = render_html(report)
    assert 'No sendmail on this host: /usr/sbin/sendmail does not exist.' in text
    assert 'NO SENDMAIL' in text and 'COMPLIANT' not in text
    assert 'meets the baseline' not in text and 'The host has no sendmail' in text
    matrix = text.split('id="matrix"')[1].split('</table>')[0]
    assert '1 host without sendmail' in matrix and 'meeting the baseline' not in matrix
    assert 'No sendmail on this host' in render_markdown(report)
    page = render_html(mixed_fleet())
    assert 'sendmail cannot be audited: ' + SEEN['seen'] in page
    groups = re.findall(r'<tr class="g"><td colspan="\d+">([^<]*)</td></tr>', page)
    assert groups == ['1 host failing SM-X-01', '1 host meeting the baseline', '1 host without sendmail']


SMTP_OUT = [{'id': 'SM-SMTP-0%d' % number, 'title': 'SMTP control %d' % number} for number in (1, 2, 3, 4)]


def selected_fleet():
    """Three compliant hosts audited with exclude: [smtp]; one has a waived control."""
    waived = finding('SM-W-01', status='waived', waiver={'id': 'SM-W-01', 'reason': 'ticket 7', 'expires': '2099-01-01',
                                                         'expired': False})
    return build_report([host('mx1', [finding()], excluded=SMTP_OUT), host('mx2', [finding()], excluded=SMTP_OUT),
                         host('mx3', [finding(), waived], excluded=SMTP_OUT)], STAMP)


def test_the_verdict_names_the_controls_left_out():
    report = selected_fleet()
    assert _report.verdict_text(report) == ('All 3 hosts meet the baseline, 4 controls excluded: SM-SMTP-01, SM-SMTP-02, '
                                            'SM-SMTP-03, SM-SMTP-04, 1 control waived: SM-W-01')
    assert report['excluded'] == [dict(item, hosts=['mx1', 'mx2', 'mx3']) for item in SMTP_OUT]
    assert report['waived'] == [{'id': 'SM-W-01', 'title': 'A control', 'hosts': ['mx3']}]
    assert (report['totals']['controls_excluded'], report['totals']['controls_waived']) == (4, 1)
    assert report['hosts'][0]['excluded'] == SMTP_OUT
    plain = build_report([host('mx1', [finding()])], STAMP)
    assert _report.verdict_text(plain) == 'The host meets the baseline' and plain['excluded'] == [] and plain['waived'] == []


def test_every_format_lists_the_controls_left_out():
    report = selected_fleet()
    assert host_line(report['hosts'][2]) == ('mx3: compliant, 2 controls: 1 pass, 0 fail, 0 error, 0 n/a, 1 waived; waived: SM-W-01; '
                                             'excluded: SM-SMTP-01, SM-SMTP-02, SM-SMTP-03, SM-SMTP-04')
    suite = parse_junit(report).find("testsuite[@name='mx1']")
    cases = {case.get('name'): case for case in suite.findall('testcase')}
    assert cases['SM-SMTP-01 SMTP control 1'].find('skipped').get('message') == 'excluded from this audit (include/exclude)'
    assert (suite.get('tests'), suite.get('skipped')) == ('5', '4')
    assert {p.get('name'): p.get('value') for p in suite.iter('property')}['controls_excluded'] == \
        'SM-SMTP-01,SM-SMTP-02,SM-SMTP-03,SM-SMTP-04'
    text = render_markdown(report)
    assert '- **Result:** All 3 hosts meet the baseline, 4 controls excluded: SM-SMTP-01' in text
    assert '## Controls left out\n\n### Excluded (4)\n\n| Control | Title | Hosts |\n|---|---|---|\n' in text
    assert '| SM-SMTP-01 | SMTP control 1 | all |\n' in text
    assert '### Waived (1)\n\n| Control | Title | Hosts |\n|---|---|---|\n| SM-W-01 | A control | mx3 |\n' in text
    assert 'Excluded from this audit (4): SM-SMTP-01, SM-SMTP-02, SM-SMTP-03, SM-SMTP-04.' in text.split('## mx1')[1]
    page = render_html(report)
    words = ' '.join(' '.join(parse_html(page).text).split())
    assert 'All 3 hosts meet the baseline, 4 controls excluded' in words
    assert 'Controls left out' in words and 'Excluded (4)' in words and 'Waived (1)' in words
    assert 'Excluded from this audit (4): SM-SMTP-01, SM-SMTP-02, SM-SMTP-03, SM-SMTP-04.' in words
    assert 'controls excluded' in words  # the tile


def test_controls_excluded_on_some_hosts_only_are_named_with_their_hosts():
    report = build_report([host('mx1', [finding()], excluded=SMTP_OUT[:1]), host('mx2', [finding()])], STAMP)
    assert _report.verdict_text(report) == 'All 2 hosts meet the baseline, 1 control excluded on some hosts: SM-SMTP-01'
    assert '| SM-SMTP-01 | SMTP control 1 | mx1 |\n' in render_markdown(report)
    many = [{'id': 'SM-Z-%02d' % number, 'title': 't'} for number in range(12)]
    text = _report.verdict_text(build_report([host('mx1', [finding()], excluded=many)], STAMP))
    assert text.endswith('12 controls excluded: SM-Z-00, SM-Z-01, SM-Z-02, SM-Z-03, SM-Z-04, SM-Z-05, SM-Z-06, SM-Z-07 and 4 more')


def test_the_html_verdict_is_amber_where_not_everything_was_judged():
    assert '<div class="verdict warn">All 3 hosts meet the baseline, 4 controls excluded' in render_html(selected_fleet())
    assert '<div class="verdict good">The host meets the baseline</div>' in render_html(build_report([host('mx1', [finding()])], STAMP))
    bare = build_report([host('bare', [finding(status='not_applicable')], sendmail=BARE)], STAMP)
    assert '<div class="verdict warn">The host has no sendmail</div>' in render_html(bare)


def test_the_host_line_says_what_an_update_undoes_and_what_nothing_explains():
    package = {'manager': 'rpm', 'package': 'sendmail', 'error': None, 'update_undoes': ['SM-QUEUE-01'],
               'unexplained': ['/usr/sbin/makemap'], 'entries': [], 'files': ['/usr/sbin/makemap']}
    built = build_report([host('el9', [finding()], package=package), host('debian', [finding()])], STAMP, '0.1.0', 'mailsec.sendmail')
    el9, debian = sorted(built['hosts'], key=lambda item: item['host'], reverse=True)
    assert el9['package'] == {key: package[key] for key in ('manager', 'package', 'error', 'update_undoes', 'unexplained', 'entries')}
    assert host_line(el9).endswith('; an update of the sendmail package undoes SM-QUEUE-01; rpm -V: /usr/sbin/makemap differs '
                                   'from the package, which no control explains')
    assert debian['package'] is None and 'package' not in host_line(debian)
