# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""An audit report as OSCAL assessment results (OSCAL 1.1.2, JSON).

One result for the audit; each host an inventory item of it; for each control that fails or errs on a host, an
observation (what was read there) and a finding (the control not satisfied), and for each waived control a
finding whose risk is an approved deviation, the waiver's reason its statement. A host that could not be audited
has one observation saying why and a finding per control in error, as in XCCDF: nothing shows it meets the
baseline. Every finding carries the audit's own status as a property, so that it reads the same as report.json.

UUIDs are version 5, derived from the report's content: the same report always gives the same text.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import CONTROLS
from ansible_collections.mailsec.sendmail.plugins.module_utils._report import (
    address_kind, clean, finding_facts, unknown_controls, utc_time,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import host_delta

OSCAL_VERSION = '1.1.2'
# The collection's own namespace, for its UUIDs and the properties OSCAL has no name of its own for.
UUID_NAMESPACE = uuid.UUID('6f1f2a0e-3c59-5d0b-9a57-6d61696c7365')
PROP_NS = 'urn:mailsec.sendmail:oscal'
# The audit statuses that make a finding; each leaves the control's objective not satisfied.
FINDING_STATUSES = ('fail', 'error', 'waived')
# What an OSCAL token (a target id) cannot hold, and what it must start with.
_NOT_TOKEN = re.compile(r'[^A-Za-z0-9._-]')
_ADDRESS_PROP = {'ipv4': 'ipv4-address', 'ipv6': 'ipv6-address', 'fqdn': 'fqdn'}


def _uuid(kind: str, *parts) -> str:
    """A version 5 UUID of what it names: its kind first, so that no two kinds can meet."""
    return str(uuid.uuid5(UUID_NAMESPACE, '\x1f'.join([kind] + [str(part) for part in parts])))


def _props(pairs) -> list:
    """Properties of the (name, value) pairs that have a value: OSCAL takes no empty or space-edged value."""
    found = []
    for name, value in pairs:
        text = clean(value).strip() if value is not None else ''
        if text:
            found.append({'name': name, 'ns': PROP_NS, 'value': text})
    return found


def target_id(control_id: str) -> str:
    token = _NOT_TOKEN.sub('-', control_id)
    return token if token[:1].isalpha() or token[:1] == '_' else 'control-' + token


def _inventory_item(report: dict, host: dict) -> dict:
    sendmail = host['sendmail']
    merged = report.get('merged')
    pairs = [('host', host['host']), ('verdict', host['verdict'])]
    pairs += [('sendmail-' + key.replace('_', '-'), sendmail.get(key)) for key in ('version', 'drop_method', 'program', 'reason')]
    pairs.append(('merged-from', merged['kept'].get(host['host']) if merged else None))
    props = _props(pairs)
    kind, address = address_kind(host.get('address'))
    if kind:
        props.append({'name': _ADDRESS_PROP[kind], 'value': address})
    description = 'The host %s, audited' % host['host'] if host['reachable'] else 'The host %s, not audited: %s' % (host['host'], host['msg'])
    return {'uuid': _uuid('host', report['generated_at'], host['host']), 'description': description, 'props': props}


def _finding(key: tuple, host: dict, control_id: str, title: str, status: str, description: str, observation: str,
             extra: list) -> dict:
    return {'uuid': _uuid('finding', *key), 'title': title or control_id, 'description': description,
            'props': _props([('status', status), ('host', host['host'])] + extra),
            'target': {'type': 'objective-id', 'target-id': target_id(control_id), 'status': {'state': 'not-satisfied'}},
            'related-observations': [{'observation-uuid': observation}]}


def _deadline(expires) -> str | None:
    """The end of a waiver's last day, where its expiry is a date."""
    try:
        return '%sT23:59:59Z' % datetime.date.fromisoformat(expires).isoformat()
    except (TypeError, ValueError):
        return None


def _not_audited(report: dict, host: dict, subject: list, collected: str) -> tuple:
    """The observation of a host that could not be audited, and a finding per control in error."""
    observation = {'uuid': _uuid('not-audited', report['generated_at'], host['host']), 'title': 'Not audited',
                   'description': 'The host could not be audited: %s' % (host['msg'] or 'no reason given'),
                   'methods': ['TEST'], 'types': ['finding'], 'subjects': subject, 'collected': collected}
    findings = [_finding((report['generated_at'], host['host'], control['id']), host, control['id'], control['title'],
                         'error', '%s cannot be judged on %s: not audited' % (control['id'], host['host']),
                         observation['uuid'], []) for control in list(CONTROLS) + unknown_controls(report, target_id)]
    return [observation], findings, []


def _host_entries(report: dict, host: dict, item_uuid: str) -> tuple:
    """(observations, findings, risks) of one host."""
    collected = (host.get('audited') or {}).get('end') or report['generated_at']
    subject = [{'subject-uuid': item_uuid, 'type': 'inventory-item'}]
    if not host['reachable']:
        return _not_audited(report, host, subject, collected)
    observations, findings, risks = [], [], []
    changes = host_delta(report, host['host'])
    for finding in host['findings']:
        if finding['status'] not in FINDING_STATUSES:
            continue
        key = (report['generated_at'], host['host'], finding['id'])
        observation = {'uuid': _uuid('observation', *key), 'title': '%s on %s' % (finding['id'], host['host']),
                       'description': finding_facts(finding), 'methods': ['TEST'], 'types': ['finding'], 'subjects': subject,
                       'collected': collected}
        if finding['path']:
            observation['relevant-evidence'] = [{'description': 'The file read: %s' % finding['path']}]
        observations.append(observation)
        since = [('since-last-audit', value) for kind, value in (('new', 'new'), ('still_open', 'still-open'))
                 if finding['id'] in changes[kind]]
        entry = _finding(key, host, finding['id'], finding['title'], finding['status'],
                         '%s %s on %s: %s' % (finding['id'], 'errs' if finding['status'] == 'error' else 'fails', host['host'],
                                              finding['actual'] or finding['status']),
                         observation['uuid'], [('severity', finding['severity'])] + since)
        if finding['status'] == 'waived':
            waiver = finding['waiver'] or {}
            risk = {'uuid': _uuid('risk', *key), 'title': 'Waived: %s on %s' % (finding['id'], host['host']),
                    'description': finding['title'] or finding['id'], 'statement': waiver.get('reason') or 'waived',
                    'status': 'deviation-approved'}
            if _deadline(waiver.get('expires')):
                risk['deadline'] = _deadline(waiver['expires'])
            risks.append(risk)
            entry['related-risks'] = [{'risk-uuid': risk['uuid']}]
        findings.append(entry)
    return observations, findings, risks


def assessment_results(report: dict) -> dict:
    """The report as an OSCAL assessment-results document (a dict, ready for JSON)."""
    stamp = report['generated_at']
    # Two reports of the same time but other content are other documents.
    content = json.dumps(report, sort_keys=True)
    baseline = _uuid('baseline', report['baseline'], report['collection_version'])
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
        'uuid': _uuid('result', content),
        'title': 'sendmail audit of %d host%s' % (sums['hosts'], '' if sums['hosts'] == 1 else 's'),
        'description': 'The %s baseline judged on each host by mailsec.sendmail %s: %d of %d hosts drift.'
                       % (report['baseline'], report['collection_version'], sums['hosts_drift'], sums['hosts']),
        'start': stamp,
        'props': _props([('drift', str(report['drift']).lower()),
                         ('compared-with', utc_time((report.get('delta') or {}).get('compared_with', {}).get('generated_at')))]),
        'reviewed-controls': {'control-selections': [{'include-all': {}}]},
    }
    if items:
        result['local-definitions'] = {'inventory-items': items}
    for key, values in (('observations', observations), ('risks', risks), ('findings', findings)):
        if values:
            result[key] = values
    return {'assessment-results': {
        'uuid': _uuid('assessment-results', content),
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
    return json.dumps(assessment_results(report), indent=2, ensure_ascii=False) + '\n'
