# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The catalogue as an XCCDF Benchmark, and audits as XCCDF results and ARF: ids, statuses, waivers, scores.
(OpenSCAP validates the same files in tests/report.)"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import CONTROLS, FAMILIES
from ansible_collections.mailsec.sendmail.plugins.module_utils._report import build_report
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import compare
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_scap import (
    BENCHMARK_ID, benchmark_text, render_arf, render_xccdf, rule_id,
)

STAMP = '2026-12-01T08:00:00Z'
X = '{http://checklists.nist.gov/xccdf/1.2}'
# Five hosts: one with every status, an excluded control and address and times; one not audited; one with a control
# this catalogue does not have (as in a merged report of another version); a compliant one reached by its DNS name; one
# without sendmail reached over IPv6.
FLEET = Path(__file__).parent / 'fixtures' / 'report' / 'compliance.json'


def fleet() -> list:
    return json.loads(FLEET.read_text(encoding='utf-8'))


def results_of(text: str) -> dict:
    """TestResult id to {rule id: (result, message)}."""
    root = ET.fromstring(text.encode('utf-8'))
    found = {}
    for test in root.iter(X + 'TestResult'):
        found[test.get('id')] = {rule.get('idref'): (rule.findtext(X + 'result'), rule.findtext(X + 'message'))
                                 for rule in test.iter(X + 'rule-result')}
    return found


def test_the_benchmark_has_a_rule_per_control_in_a_group_per_family_and_a_profile_selecting_all():
    root = ET.fromstring(benchmark_text('0.1.0').encode('utf-8'))
    assert root.get('id') == BENCHMARK_ID == 'xccdf_mailsec.sendmail_benchmark_baseline'
    rules = {rule.get('id'): rule for rule in root.iter(X + 'Rule')}
    assert list(rules) == [rule_id(control['id']) for control in sorted(CONTROLS, key=lambda c: FAMILIES.index(c['family']))]
    alias = rules[rule_id('SM-FILE-05')]
    assert alias.get('severity') == next(c for c in CONTROLS if c['id'] == 'SM-FILE-05')['severity']
    assert {ident.text for ident in alias.iter(X + 'ident')} == {'GEN004360', 'V-831', 'GEN004380', 'V-832'}
    assert alias.findtext(X + 'fixtext') and alias.findtext(X + 'rationale')
    selected = [item.get('idref') for item in root.find(X + 'Profile').iter(X + 'select')]
    assert sorted(selected) == sorted(rules)


def test_statuses_read_as_xccdf_results():
    report = build_report(fleet(), STAMP, '0.1.0')
    results = results_of(render_xccdf(report))
    mx1 = results['xccdf_mailsec.sendmail_testresult_mx1.example.org']
    assert mx1[rule_id('SM-RUNAS-01')][0] == 'fail'
    assert mx1[rule_id('SM-FILE-02')][0] == 'pass'
    assert mx1[rule_id('SM-QUEUE-01')][0] == 'error'
    assert mx1[rule_id('SM-RELAY-01')][0] == 'notapplicable'
    assert mx1[rule_id('SM-SMTP-01')][0] == 'notselected'
    result, message = mx1[rule_id('SM-SETUID-01')]
    assert result == 'informational'
    assert message.startswith('waived (W-1): procmail needs it (expires 2099-12-31); the control fails')
    # A host that could not be audited: every control an error, its message the reason.
    down = results['xccdf_mailsec.sendmail_testresult_mx-2']
    assert set(value[0] for value in down.values()) == {'error'}
    assert down[rule_id('SM-RUNAS-01')][1] == 'not audited: Failed to connect'


def test_a_control_this_catalogue_lacks_gets_a_rule_from_its_finding():
    text = render_xccdf(build_report(fleet(), STAMP, '0.1.0'))
    root = ET.fromstring(text.encode('utf-8'))
    rule = next(rule for rule in root.iter(X + 'Rule') if rule.get('id') == rule_id('SM-GONE-09'))
    assert rule.findtext(X + 'title') == 'Control SM-GONE-09'
    assert results_of(text)['xccdf_mailsec.sendmail_testresult_old'][rule_id('SM-GONE-09')][0] == 'fail'


def test_target_address_times_facts_and_flat_score():
    root = ET.fromstring(render_xccdf(build_report(fleet(), STAMP, '0.1.0')).encode('utf-8'))
    test = next(t for t in root.iter(X + 'TestResult') if t.findtext(X + 'target') == 'mx1.example.org')
    assert (test.get('start-time'), test.get('end-time')) == ('2026-12-01T07:59:58Z', '2026-12-01T07:59:59Z')
    assert test.findtext(X + 'target-address') == '127.0.0.2'
    facts = {fact.get('name'): fact.text for fact in test.iter(X + 'fact')}
    assert facts['urn:mailsec.sendmail:fact:sendmail:version'] == '8.17.1.9'
    assert facts['urn:mailsec.sendmail:fact:sendmail:drop-method'] == 'seteuid'
    assert facts['urn:mailsec.sendmail:fact:verdict'] == 'drift'
    score = test.find(X + 'score')
    assert (score.text, score.get('maximum'), score.get('system')) == ('1', '3', 'urn:xccdf:scoring:flat')
    down = next(t for t in root.iter(X + 'TestResult') if t.findtext(X + 'target') == 'mx 2')
    assert down.get('start-time') == STAMP and down.find(X + 'score').text == '0'


def test_the_comparison_shows_in_the_messages():
    first = build_report(fleet(), '2026-11-01T08:00:00Z', '0.1.0')
    second = build_report(fleet(), STAMP, '0.1.0')
    compare(second, first, '/srv/audit/report.json')
    text = render_xccdf(second)
    assert 'still open since the last audit' in results_of(text)['xccdf_mailsec.sendmail_testresult_mx1.example.org'][rule_id('SM-RUNAS-01')][1]
    assert '<xccdf:fact name="urn:mailsec.sendmail:fact:compared-with" type="string">2026-11-01T08:00:00Z</xccdf:fact>' in text


def test_the_arf_holds_the_request_an_asset_and_a_report_per_host():
    text = render_arf(build_report(fleet(), STAMP, '0.1.0'))
    root = ET.fromstring(text.encode('utf-8'))
    arf = '{http://scap.nist.gov/schema/asset-reporting-format/1.1}'
    assert len(root.findall('%sreports/%sreport' % (arf, arf))) == 5
    assert len(root.findall('%sassets/%sasset' % (arf, arf))) == 5
    ai = '{http://scap.nist.gov/schema/asset-identification/1.1}'
    assert [item.text for item in root.iter(ai + 'ip-v6')] == ['2001:0db8:0000:0000:0000:0000:0000:0025']
    assert [item.text for item in root.iter(ai + 'fqdn')] == ['clean.example.org']
    assert 'mx 2' not in [item.text for item in root.iter(ai + 'hostname')]  # a name the schema's pattern refuses
    assert root.find('.//{http://scap.nist.gov/schema/scap/source/1.2}data-stream-collection') is not None
    assert '<ai:ip-v4>127.0.0.2</ai:ip-v4>' in text and 'xmlns:arfvocab=' in text
    assert results_of(text) == results_of(render_xccdf(build_report(fleet(), STAMP, '0.1.0')))


def test_same_report_same_text_and_names_made_unique():
    hosts = fleet() + [{'host': 'mx:2', 'reachable': False, 'msg': 'down'}]
    first = render_xccdf(build_report(hosts, STAMP, '0.1.0'))
    assert first == render_xccdf(build_report(list(reversed(hosts)), STAMP, '0.1.0'))
    ids = list(results_of(first))
    assert len(ids) == len(set(ids)) == 6
    assert 'xccdf_mailsec.sendmail_testresult_mx-2-2' in ids


def test_odd_values_give_a_valid_result():
    hosts = fleet()
    hosts[0]['findings'][0].update(id='SM GONE/9', severity='')
    text = render_xccdf(build_report(hosts, STAMP, '0.1.0'))
    rules = results_of(text)['xccdf_mailsec.sendmail_testresult_mx1.example.org']
    assert rules['xccdf_mailsec.sendmail_rule_SM-GONE-9'][0] == 'fail'
    assert 'severity="unknown"' in text and 'severity=""' not in text


def test_the_fixed_drift_is_said_on_its_passing_rule():
    first = build_report(fleet(), '2026-11-01T08:00:00Z', '0.1.0')
    hosts = fleet()
    hosts[0]['findings'][0]['status'] = 'pass'
    second = build_report(hosts, STAMP, '0.1.0')
    compare(second, first, '/srv/audit/report.json')
    result, message = results_of(render_xccdf(second))['xccdf_mailsec.sendmail_testresult_mx1.example.org'][rule_id('SM-RUNAS-01')]
    assert (result, message) == ('pass', 'fixed since the last audit')


def test_a_report_of_no_host_leaves_out_the_empty_relationships_and_assets():
    text = render_arf(build_report([], STAMP, '0.1.0'))
    assert '<core:relationships' not in text and '<arf:assets' not in text
