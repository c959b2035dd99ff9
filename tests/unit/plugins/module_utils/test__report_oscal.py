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
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_oscal import render_oscal

STAMP = '2026-12-01T08:00:00Z'
FLEET = Path(__file__).parent / 'fixtures' / 'report' / 'compliance.json'  # described in test__report_scap.py

UUID5 = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}')


def fleet() -> list:
    return json.loads(FLEET.read_text(encoding='utf-8'))


def document():
    return json.loads(render_oscal(build_report(fleet(), STAMP, '0.1.0')))['assessment-results']


def status_of(finding):
    return next(prop['value'] for prop in finding['props'] if prop['name'] == 'status')


def test_one_result_with_a_finding_and_observation_per_failing_control_and_host():
    doc = document()
    assert doc['metadata']['oscal-version'] == '1.1.2'
    [result] = doc['results']
    items = {item['uuid']: item for item in result['local-definitions']['inventory-items']}
    assert len(items) == 3
    found = sorted((finding['target']['target-id'], status_of(finding)) for finding in result['findings'])
    assert found == [('SM-GONE-09', 'fail'), ('SM-QUEUE-01', 'error'), ('SM-RUNAS-01', 'fail'), ('SM-SETUID-01', 'waived')]
    observations = {obs['uuid']: obs for obs in result['observations']}
    for finding in result['findings']:
        [related] = finding['related-observations']
        subject = observations[related['observation-uuid']]['subjects'][0]
        assert subject['type'] == 'inventory-item' and subject['subject-uuid'] in items
    assert any(obs['description'].startswith('The host could not be audited: Failed to connect') for obs in observations.values())


def test_a_waiver_is_an_approved_deviation_with_its_reason():
    [result] = document()['results']
    waived = next(f for f in result['findings'] if f['target']['target-id'] == 'SM-SETUID-01')
    [risk] = result['risks']
    assert waived['related-risks'] == [{'risk-uuid': risk['uuid']}]
    assert (risk['status'], risk['statement'], risk['deadline']) == ('deviation-approved', 'procmail needs it', '2099-12-31T23:59:59Z')


def test_uuids_are_version_5_and_the_same_report_gives_the_same_text():
    text = render_oscal(build_report(fleet(), STAMP, '0.1.0'))
    assert text == render_oscal(build_report(list(reversed(fleet())), STAMP, '0.1.0'))
    uuids = re.findall(r'"(?:uuid|[a-z-]+-uuid)": "([^"]+)"', text)
    assert uuids and all(UUID5.fullmatch(value) for value in uuids)
    doc = json.loads(text)['assessment-results']
    assert doc['import-ap']['href'] == '#' + doc['back-matter']['resources'][0]['uuid']
