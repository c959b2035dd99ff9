# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Audits as OSCAL assessment results: a finding and an observation per failing control and host, waivers as
approved deviations, stable UUIDs. (compliance-trestle loads the same file in tests/report.)"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import build_report
from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import CONTROLS
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_oscal import PROP_NS, render_oscal

STAMP = '2026-12-01T08:00:00Z'
FLEET = Path(__file__).parent / 'fixtures' / 'report' / 'compliance.json'  # described in test__report_scap.py

UUID5 = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}')


def fleet() -> list:
    return json.loads(FLEET.read_text(encoding='utf-8'))


def document():
    return json.loads(render_oscal(build_report(fleet(), STAMP, '0.1.0')))['assessment-results']


def prop(finding, name):
    return next(item['value'] for item in finding['props'] if item['name'] == name)


def test_one_result_with_a_finding_and_observation_per_failing_control_and_host():
    doc = document()
    assert doc['metadata']['oscal-version'] == '1.1.2'
    [result] = doc['results']
    items = {item['uuid']: item for item in result['local-definitions']['inventory-items']}
    assert len(items) == 5
    found = sorted((prop(finding, 'host'), finding['target']['target-id'], prop(finding, 'status'))
                   for finding in result['findings'] if prop(finding, 'host') != 'mx 2')
    assert found == [('mx1.example.org', 'SM-QUEUE-01', 'error'), ('mx1.example.org', 'SM-RUNAS-01', 'fail'),
                     ('mx1.example.org', 'SM-SETUID-01', 'waived'), ('old', 'SM-GONE-09', 'fail')]
    observations = {obs['uuid']: obs for obs in result['observations']}
    for finding in result['findings']:
        [related] = finding['related-observations']
        subject = observations[related['observation-uuid']]['subjects'][0]
        assert subject['type'] == 'inventory-item' and items[subject['subject-uuid']]['props'][0]['value'] == prop(finding, 'host')
        assert all(item['value'] == item['value'].strip() != '' for item in finding['props'])


def test_a_host_not_audited_is_every_control_in_error_on_one_observation():
    [result] = document()['results']
    down = [finding for finding in result['findings'] if prop(finding, 'host') == 'mx 2']
    assert {prop(finding, 'status') for finding in down} == {'error'}
    assert {finding['target']['target-id'] for finding in down} == {control['id'] for control in CONTROLS} | {'SM-GONE-09'}
    assert len({finding['related-observations'][0]['observation-uuid'] for finding in down}) == 1
    assert any(obs['description'] == 'The host could not be audited: Failed to connect' for obs in result['observations'])


def test_addresses_and_the_host_without_sendmail():
    [result] = document()['results']
    props = {item['props'][0]['value']: {p['name']: p['value'] for p in item['props']}
             for item in result['local-definitions']['inventory-items']}
    assert props['mx1.example.org']['ipv4-address'] == '127.0.0.2'
    assert props['clean']['fqdn'] == 'clean.example.org'
    assert props['bare']['ipv6-address'] == '2001:0db8:0000:0000:0000:0000:0000:0025'
    assert props['bare']['sendmail-reason'] == 'no sendmail program was found' and props['bare']['verdict'] == 'no_sendmail'


def test_a_waiver_is_an_approved_deviation_with_its_reason():
    [result] = document()['results']
    waived = next(f for f in result['findings'] if prop(f, 'status') == 'waived')
    [risk] = result['risks']
    assert waived['related-risks'] == [{'risk-uuid': risk['uuid']}]
    assert (risk['status'], risk['statement'], risk['deadline']) == ('deviation-approved', 'procmail needs it', '2099-12-31T23:59:59Z')


def test_odd_values_stay_within_oscal():
    hosts = fleet()
    hosts[0]['findings'][0].update(id='SM GONE/9', title='', severity='')
    hosts[0]['findings'][1]['waiver'] = dict(hosts[0]['findings'][1]['waiver'], expires='2099-12-31T00:00:00Z')
    hosts[0]['sendmail']['version'] = '8.17.1 '
    [result] = json.loads(render_oscal(build_report(hosts, STAMP, '0.1.0')))['assessment-results']['results']
    odd = next(f for f in result['findings'] if prop(f, 'host') == 'mx1.example.org' and prop(f, 'status') == 'fail')
    assert (odd['target']['target-id'], odd['title']) == ('SM-GONE-9', 'SM GONE/9')
    assert 'severity' not in {item['name'] for item in odd['props']}
    assert 'deadline' not in result['risks'][0]
    item = next(i for i in result['local-definitions']['inventory-items'] if i['props'][0]['value'] == 'mx1.example.org')
    assert {'name': 'sendmail-version', 'ns': PROP_NS, 'value': '8.17.1'} in item['props']


def test_uuids_are_version_5_unique_and_the_same_report_gives_the_same_text():
    text = render_oscal(build_report(fleet(), STAMP, '0.1.0'))
    assert text == render_oscal(build_report(list(reversed(fleet())), STAMP, '0.1.0'))
    uuids = re.findall(r'"uuid": "([^"]+)"', text)
    assert uuids and all(UUID5.fullmatch(value) for value in uuids) and len(set(uuids)) == len(uuids)
    doc = json.loads(text)['assessment-results']
    assert doc['import-ap']['href'] == '#' + doc['back-matter']['resources'][0]['uuid']
    # Another report of the same time is another document.
    other = json.loads(render_oscal(build_report(fleet()[:2], STAMP, '0.1.0')))['assessment-results']
    assert other['uuid'] != doc['uuid']


def test_a_host_named_like_a_kind_meets_no_other_uuid():
    hosts = [{'host': 'host', 'reachable': False, 'msg': 'down'}, {'host': 'not-audited', 'reachable': False, 'msg': 'down'}]
    text = render_oscal(build_report(hosts, STAMP, '0.1.0'))
    uuids = re.findall(r'"uuid": "([^"]+)"', text)
    assert len(set(uuids)) == len(uuids)
