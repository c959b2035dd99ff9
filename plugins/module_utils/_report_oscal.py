# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""An audit report as OSCAL assessment results (OSCAL 1.1.2, JSON).

One result for the audit; each host an inventory item of it; for each control that fails or errs on a host, an
observation (what was read there) and a finding (the control not satisfied), and for each waived control a
finding whose risk is an approved deviation, the waiver's reason its statement. Every finding carries the
audit's own status as a property, so that it reads the same as report.json.

UUIDs are version 5, derived from the report's content: the same report always gives the same text.
"""

from __future__ import annotations

import json
import uuid

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import finding_facts
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import host_delta

OSCAL_VERSION = '1.1.2'
# The collection's own namespace, for its UUIDs and the properties OSCAL has no name of its own for.
UUID_NAMESPACE = uuid.UUID('6f1f2a0e-3c59-5d0b-9a57-6d61696c7365')
PROP_NS = 'urn:mailsec.sendmail:oscal'
# The audit statuses that make a finding, and the state of the control's objective each gives.
_STATE = {'fail': 'not-satisfied', 'error': 'not-satisfied', 'waived': 'not-satisfied'}


def _uuid(*parts) -> str:
    return str(uuid.uuid5(UUID_NAMESPACE, '\x1f'.join(str(part) for part in parts)))


def _prop(name: str, value) -> dict:
    return {'name': name, 'ns': PROP_NS, 'value': str(value)}


def _inventory_item(report: dict, host: dict) -> dict:
    sendmail = host['sendmail']
    props = [_prop('host', host['host']), _prop('verdict', host['verdict'])]
    props += [_prop('sendmail-' + key.replace('_', '-'), sendmail[key]) for key in ('version', 'drop_method', 'program')
              if sendmail.get(key)]
    if host.get('address'):
        props.append({'name': 'ipv6-address' if ':' in host['address'] else 'ipv4-address', 'value': host['address']})
    merged = report.get('merged')
    if merged and merged['kept'].get(host['host']):
        props.append(_prop('merged-from', merged['kept'][host['host']]))
    description = 'The host %s, audited' % host['host'] if host['reachable'] else 'The host %s, not audited: %s' % (host['host'], host['msg'])
    return {'uuid': _uuid(report['generated_at'], 'host', host['host']), 'description': description, 'props': props}


def _host_entries(report: dict, host: dict, item_uuid: str) -> tuple:
    """(observations, findings, risks) of one host."""
    observations, findings, risks = [], [], []
    collected = (host.get('audited') or {}).get('end') or report['generated_at']
    subject = [{'subject-uuid': item_uuid, 'type': 'inventory-item'}]
    if not host['reachable']:
        observations.append({'uuid': _uuid(report['generated_at'], host['host'], 'not-audited'), 'title': 'Not audited',
                             'description': 'The host could not be audited: %s' % host['msg'], 'methods': ['TEST'],
                             'types': ['finding'], 'subjects': subject, 'collected': collected})
        return observations, findings, risks
    changes = host_delta(report, host['host'])
    for finding in host['findings']:
        if finding['status'] not in _STATE:
            continue
        key = (report['generated_at'], host['host'], finding['id'])
        observation = {'uuid': _uuid(*key, 'observation'), 'title': '%s on %s' % (finding['id'], host['host']),
                       'description': finding_facts(finding), 'methods': ['TEST'], 'types': ['finding'], 'subjects': subject,
                       'collected': collected}
        if finding['path']:
            observation['relevant-evidence'] = [{'description': 'The file read: %s' % finding['path']}]
        observations.append(observation)
        props = [_prop('status', finding['status']), _prop('severity', finding['severity']), _prop('host', host['host'])]
        for kind, value in (('new', 'new'), ('still_open', 'still-open')):
            if finding['id'] in changes[kind]:
                props.append(_prop('since-last-audit', value))
        entry = {'uuid': _uuid(*key, 'finding'), 'title': finding['title'],
                 'description': '%s %s on %s: %s' % (finding['id'], 'errs' if finding['status'] == 'error' else 'fails',
                                                     host['host'], finding['actual'] or finding['status']),
                 'props': props,
                 'target': {'type': 'objective-id', 'target-id': finding['id'],
                            'status': {'state': _STATE[finding['status']]}},
                 'related-observations': [{'observation-uuid': observation['uuid']}]}
        if finding['status'] == 'waived':
            waiver = finding['waiver'] or {}
            risk = {'uuid': _uuid(*key, 'risk'), 'title': 'Waived: %s on %s' % (finding['id'], host['host']),
                    'description': finding['title'], 'statement': waiver.get('reason') or 'waived',
                    'status': 'deviation-approved'}
            if waiver.get('expires'):
                risk['deadline'] = '%sT23:59:59Z' % waiver['expires']
            risks.append(risk)
            entry['related-risks'] = [{'risk-uuid': risk['uuid']}]
        findings.append(entry)
    return observations, findings, risks


def assessment_results(report: dict) -> dict:
    """The report as an OSCAL assessment-results document (a dict, ready for JSON)."""
    stamp = report['generated_at']
    baseline = _uuid(stamp, 'baseline')
    items, observations, findings, risks = [], [], [], []
    for host in report['hosts']:
        item = _inventory_item(report, host)
        items.append(item)
        more = _host_entries(report, host, item['uuid'])
        observations += more[0]
        findings += more[1]
        risks += more[2]
    sums = report['totals']
    result = {
        'uuid': _uuid(stamp, 'result'),
        'title': 'sendmail audit of %d host%s' % (sums['hosts'], '' if sums['hosts'] == 1 else 's'),
        'description': 'The %s baseline judged on each host by mailsec.sendmail %s: %d of %d hosts drift.'
                       % (report['baseline'], report['collection_version'], sums['hosts_drift'], sums['hosts']),
        'start': stamp,
        'props': [_prop('drift', str(report['drift']).lower())],
        'local-definitions': {'inventory-items': items},
        'reviewed-controls': {'control-selections': [{'include-all': {}}]},
    }
    if report.get('delta'):
        result['props'].append(_prop('compared-with', report['delta']['compared_with']['generated_at']))
    for key, values in (('observations', observations), ('risks', risks), ('findings', findings)):
        if values:
            result[key] = values
    return {'assessment-results': {
        'uuid': _uuid(stamp, 'assessment-results'),
        'metadata': {'title': 'sendmail audit, baseline %s' % report['baseline'], 'last-modified': stamp,
                     'version': report['collection_version'], 'oscal-version': OSCAL_VERSION},
        # The plan assessed against is the baseline the collection ships: named in back-matter, no address invented.
        'import-ap': {'href': '#' + baseline},
        'results': [result],
        'back-matter': {'resources': [{'uuid': baseline, 'title': '%s baseline' % report['baseline'],
                                       'description': 'The controls of the mailsec.sendmail collection %s (docs/controls.md, '
                                                      'docs/xccdf-benchmark.xml).' % report['collection_version']}]},
    }}


def render_oscal(report: dict) -> str:
    """oscal-assessment-results.json."""
    return json.dumps(assessment_results(report), indent=2, sort_keys=False, ensure_ascii=False) + '\n'
