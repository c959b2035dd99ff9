# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Compliance reports of audit results: JSON, JUnit XML, Markdown and self-contained HTML (XCCDF, ARF and OSCAL in
_report_scap and _report_oscal).

Pure functions: the caller gives the results of every host and the metadata (the time of
the run, the collection version, the baseline's name) and gets the text of each file back.
The same input always gives the same text: hosts are sorted by name, controls by id.
"""

from __future__ import annotations

import html
import ipaddress
import json
import re
import xml.etree.ElementTree as ET

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import CONTROLS, STATUSES
from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import count, drifts, verdict
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import days_between, host_delta

SEVERITIES = ('high', 'medium', 'low')
# Report file name of each format, in the order they are written.
FORMATS = {'json': 'report.json', 'junit': 'junit.xml', 'md': 'report.md', 'html': 'report.html',
           'xccdf': 'xccdf-results.xml', 'arf': 'arf.xml', 'oscal': 'oscal-assessment-results.json'}
SCHEMA = 'mailsec.sendmail/audit-report/1'
CLASSNAME_PREFIX = 'mailsec.sendmail.'
UNREACHABLE_CASE = 'host audited'
NO_SENDMAIL_CASE = 'sendmail found'
EXCLUDED_MESSAGE = 'excluded from this audit (include/exclude)'

_FINDING_TEXT = ('id', 'title', 'family', 'severity', 'status', 'expected', 'actual', 'evidence', 'fix')
_STATUS_LABEL = {'pass': 'pass', 'fail': 'fail', 'error': 'error', 'not_applicable': 'n/a', 'waived': 'waived'}
# Characters XML 1.0 cannot carry, even escaped (C0 controls but tab and newlines, lone surrogates, U+FFFE/F).
# A host name as Asset Identification's pattern takes it.
DNS_NAME = re.compile(r'[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*')
_NOT_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]')


class ReportError(ValueError):
    """The results do not follow the contract of sendmail_drift."""


def clean(value) -> str:
    """Text of a value, with characters no XML or HTML file may hold replaced by U+FFFD."""
    if value is None:
        return ''
    return _NOT_XML.sub('\ufffd', value if isinstance(value, str) else str(value))


def _clean_tree(value):
    """``value`` with every string cleaned, for the free-form ``sendmail`` facts."""
    if isinstance(value, dict):
        return {clean(key): _clean_tree(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean_tree(item) for item in value]
    if isinstance(value, str):
        return clean(value)
    return value


def _normalise_waiver(waiver) -> dict | None:
    if not waiver:
        return None
    if not isinstance(waiver, dict):
        raise ReportError('a waiver must be a dict, got %r' % (waiver,))
    return {
        'id': clean(waiver.get('id')), 'reason': clean(waiver.get('reason')),
        'expires': clean(waiver.get('expires')), 'expired': bool(waiver.get('expired')),
    }


def normalise_finding(host: str, finding) -> dict:
    """One finding with every contract key, strings cleaned; ReportError when it breaks the contract."""
    if not isinstance(finding, dict) or not finding.get('id'):
        raise ReportError('host %s: every finding needs an id, got %r' % (host, finding))
    if finding.get('status') not in STATUSES:
        raise ReportError('host %s: finding %s has status %r, not one of %s'
                          % (host, finding['id'], finding.get('status'), ', '.join(STATUSES)))
    result = {key: clean(finding.get(key)) for key in _FINDING_TEXT}
    result['path'] = None if finding.get('path') is None else clean(finding['path'])
    references = finding.get('references') or []
    if isinstance(references, str):
        references = [references]
    result['references'] = [clean(ref) for ref in references]
    result['waiver'] = _normalise_waiver(finding.get('waiver'))
    return result


def _normalise_left_out(host: str, items) -> list:
    """The controls a host's audit left out (``excluded`` of sendmail_drift: dicts of id and title, or bare ids), by id."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise ReportError('host %s: excluded must be a list of controls, got %r' % (host, items))
    found = {}
    for item in items:
        item = item if isinstance(item, dict) else {'id': item}
        if not item.get('id'):
            raise ReportError('host %s: every excluded control needs an id, got %r' % (host, item))
        found[clean(item['id'])] = {'id': clean(item['id']), 'title': clean(item.get('title'))}
    return [found[name] for name in sorted(found)]


def normalise_host(entry) -> dict:
    """A host's result as the reports use it; counts, drift and verdict recomputed from the findings.

    A host that could not be audited (``reachable`` false) has no findings and counts as drift:
    nothing shows that it meets the baseline. A host without sendmail (``sendmail.installed`` false,
    nothing failing) has the verdict ``no_sendmail``: it is not counted as meeting the baseline.
    """
    if not isinstance(entry, dict) or not entry.get('host'):
        raise ReportError('every result needs a host name, got %r' % (entry,))
    host = clean(entry['host'])
    reachable = bool(entry.get('reachable', True))
    findings = []
    if reachable:
        raw = entry.get('findings')
        if not isinstance(raw, list):
            raise ReportError('host %s is reachable but has no list of findings' % host)
        findings = sorted((normalise_finding(host, item) for item in raw), key=lambda item: item['id'])
        ids = [item['id'] for item in findings]
        if len(set(ids)) != len(ids):
            raise ReportError('host %s has the same control id twice' % host)
    counts = count(findings)
    sendmail = entry.get('sendmail') if isinstance(entry.get('sendmail'), dict) else {}
    drift = not reachable or drifts(counts)
    return dict(_where_and_when(entry), **{
        'host': host,
        'reachable': reachable,
        'msg': clean(entry.get('msg')) if not reachable or entry.get('msg') else None,
        'drift': drift,
        'verdict': verdict(reachable, sendmail.get('installed'), drift),
        'counts': counts,
        'controls_evaluated': len(findings),
        'excluded': _normalise_left_out(host, entry.get('excluded')) if reachable else [],
        'waived': [item['id'] for item in findings if item['status'] == 'waived'],
        'sendmail': _clean_tree(sendmail),
        'package': _package(entry.get('package')) if reachable else None,
        'findings': findings,
    })


def _package(package) -> dict | None:
    """What the package manager said of sendmail's files (sendmail_drift's ``package``), or None where it keeps none."""
    if not isinstance(package, dict):
        return None
    return _clean_tree({key: package.get(key) for key in ('manager', 'package', 'error', 'update_undoes', 'unexplained', 'entries')})


_UTC_TIME = re.compile(r'[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z')


def utc_time(value) -> str | None:
    """``value`` when it is a UTC time as YYYY-MM-DDTHH:MM:SSZ (the form XCCDF and OSCAL take), else None."""
    return value if isinstance(value, str) and _UTC_TIME.fullmatch(value) else None


def address_kind(address) -> tuple:
    """(kind, text) of the address Ansible reaches a host at: ('ipv4', …), ('ipv6', its full form, as Asset
    Identification takes it), ('fqdn', …) for a DNS name, (None, None) for anything else."""
    if not isinstance(address, str) or not address:
        return None, None
    try:
        found = ipaddress.ip_address(address)
    except ValueError:
        return ('fqdn', address) if DNS_NAME.fullmatch(address) else (None, None)
    if found.version == 4:
        return 'ipv4', str(found)
    # A scoped address (fe80::1%eth0) names this machine's link: no pattern takes it, and it says nothing elsewhere.
    return (None, None) if getattr(found, 'scope_id', None) else ('ipv6', found.exploded)


def _where_and_when(entry: dict) -> dict:
    """The host's address and the times its audit began and ended, where the result has them (XCCDF and OSCAL
    name them); left out otherwise, so that a report of results without them stays as it was."""
    found = {}
    if entry.get('address'):
        found['address'] = clean(entry['address'])
    audited = entry.get('audited')
    if isinstance(audited, dict) and all(utc_time(audited.get(key)) for key in ('start', 'end')):
        found['audited'] = {'start': audited['start'], 'end': audited['end']}
    return found


def totals(hosts: list) -> dict:
    """Counts over all hosts: hosts, hosts with drift, unreachable hosts, hosts without sendmail, compliant hosts,
    findings by status."""
    result = {
        'hosts': len(hosts),
        'hosts_drift': sum(1 for host in hosts if host['drift']),
        'hosts_unreachable': sum(1 for host in hosts if not host['reachable']),
        'hosts_no_sendmail': sum(1 for host in hosts if host['verdict'] == 'no_sendmail'),
        'hosts_compliant': sum(1 for host in hosts if host['verdict'] == 'compliant'),
        'findings': sum(host['controls_evaluated'] for host in hosts),
        'controls_excluded': len({item['id'] for host in hosts for item in host['excluded']}),
        'controls_waived': len({control_id for host in hosts for control_id in host['waived']}),
    }
    for status in STATUSES:
        result[status] = sum(host['counts'][status] for host in hosts)
    return result


def build_report(results: list, generated_at: str, collection_version: str | None = None, baseline: str = 'mailsec.sendmail') -> dict:
    """The whole report (the content of report.json) from the hosts' results and the metadata."""
    if not isinstance(results, list):
        raise ReportError('results must be a list of host results')
    hosts = sorted((normalise_host(entry) for entry in results), key=lambda host: host['host'])
    names = [host['host'] for host in hosts]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ReportError('hosts appear more than once in results: %s' % ', '.join(duplicates))
    sums = totals(hosts)
    return {
        'schema': SCHEMA,
        'generated_at': clean(generated_at),
        'collection_version': clean(collection_version) or 'unknown',
        'baseline': clean(baseline),
        'drift': sums['hosts_drift'] > 0,
        'totals': sums,
        'excluded': left_out_table(hosts, 'excluded'),
        'waived': left_out_table(hosts, 'waived'),
        'hosts': hosts,
    }


def left_out_table(hosts: list, key: str) -> list:
    """The controls the hosts' audits did not judge against the baseline, by id: ``excluded`` by the selection or
    ``waived``, each with its title and the hosts concerned."""
    found = {}
    for host in hosts:
        if key == 'excluded':
            items = host['excluded']
        else:
            items = [{'id': item['id'], 'title': item['title']} for item in host['findings'] if item['status'] == 'waived']
        for item in items:
            found.setdefault(item['id'], dict(item, hosts=[]))['hosts'].append(host['host'])
    return [found[name] for name in sorted(found)]


def ids_text(ids: list, limit: int = 8) -> str:
    """Control ids in a sentence, the first ``limit`` of them and how many more."""
    return ', '.join(ids[:limit]) + (' and %d more' % (len(ids) - limit) if len(ids) > limit else '')


def left_out_text(report: dict) -> str:
    """What the audit did not judge, in words: '4 controls excluded: ..., 1 control waived: ...'; empty when nothing."""
    audited = len([host for host in report['hosts'] if host['reachable']])
    parts = []
    for key in ('excluded', 'waived'):
        items = report.get(key) or []
        if items:
            some = ' on some hosts' if key == 'excluded' and any(len(item['hosts']) < audited for item in items) else ''
            parts.append('%s %s%s: %s' % (plural(len(items), 'control'), key, some, ids_text([item['id'] for item in items])))
    return ', '.join(parts)


def failing_ids(host: dict) -> list:
    """Ids of the host's controls that failed or could not be evaluated."""
    return [item['id'] for item in host['findings'] if item['status'] in ('fail', 'error')]


def no_sendmail_text(host: dict) -> str:
    """Why a host has no sendmail, as its audit said."""
    return host['sendmail'].get('reason') or 'no sendmail program was found'


def host_line(host: dict) -> str:
    """One line about a host, for a terminal."""
    if not host['reachable']:
        return '%s: NOT AUDITED (%s)' % (host['host'], host['msg'] or 'no reason given')
    if host['verdict'] == 'no_sendmail':
        return '%s: NO SENDMAIL (%s)' % (host['host'], no_sendmail_text(host))
    if host['sendmail'].get('seen'):
        return '%s: DRIFT, sendmail cannot be audited: %s' % (host['host'], host['sendmail']['seen'])
    counts = host['counts']
    line = '%s: %s, %d controls: %s' % (
        host['host'], 'DRIFT' if host['drift'] else 'compliant', host['controls_evaluated'],
        ', '.join('%d %s' % (counts[status], _STATUS_LABEL[status]) for status in STATUSES),
    )
    failing = failing_ids(host)
    if failing:
        line += ' [%s]' % ', '.join(failing)
    if host['waived']:
        line += '; waived: %s' % ids_text(host['waived'])
    if host['excluded']:
        line += '; excluded: %s' % ids_text([item['id'] for item in host['excluded']])
    package = host.get('package') or {}
    if package.get('update_undoes'):
        line += '; an update of the %s package undoes %s' % (package['package'], ids_text(package['update_undoes']))
    if package.get('unexplained'):
        line += '; %s -V: %s differ%s from the package, which no control explains' % (
            package['manager'], ', '.join(package['unexplained']), 's' if len(package['unexplained']) == 1 else '')
    return line


def summary(report: dict) -> dict:
    """What changed between two runs: per host drift, verdict, counts and failing ids; no timestamp. An earlier
    report.json, read back, may lack what later versions added."""
    return {
        'baseline': report['baseline'],
        'drift': report['drift'],
        'totals': report['totals'],
        'hosts': {
            host['host']: {'reachable': host['reachable'], 'drift': host['drift'], 'verdict': host.get('verdict'),
                           'counts': host['counts'], 'failing': failing_ids(host)}
            for host in report['hosts']
        },
    }


def plural(number: int, noun: str) -> str:
    """``1 host``, ``2 hosts``."""
    return '%d %s%s' % (number, noun, '' if number == 1 else 's')


def verdict_text(report: dict) -> str:
    """The result of the whole audit in one sentence; hosts without sendmail are named apart, never as meeting the
    baseline, and so are the controls left out (excluded or waived)."""
    sums = report['totals']
    hosts = sums['hosts']
    if not hosts:
        return 'No host was audited'
    bare = sums.get('hosts_no_sendmail', 0)
    compliant = sums.get('hosts_compliant', hosts - sums['hosts_drift'] - bare)
    if report['drift']:
        text = 'Drift on %d of %s' % (sums['hosts_drift'], plural(hosts, 'host'))
    elif compliant == hosts:
        text = 'The host meets the baseline' if hosts == 1 else 'All %d hosts meet the baseline' % hosts
    elif compliant:
        text = '%d of %s %s the baseline' % (compliant, plural(hosts, 'host'), 'meets' if compliant == 1 else 'meet')
    else:
        text = 'The host has no sendmail' if hosts == 1 else 'No host has sendmail'
    if bare and compliant + sums['hosts_drift'] > 0:
        text += ', %s %s no sendmail' % (plural(bare, 'host'), 'has' if bare == 1 else 'have')
    left_out = left_out_text(report)
    return text + (', ' + left_out if left_out else '')


def _by_severity(findings: list) -> list:
    """Findings ordered high, medium, low, then by id."""
    rank = {name: index for index, name in enumerate(SEVERITIES)}
    return sorted(findings, key=lambda item: (rank.get(item['severity'], len(SEVERITIES)), item['id']))


def waiver_label(finding: dict) -> str:
    """The waiver's own id when it has one besides the control's (``sendmail_drift`` names waivers by control id)."""
    waiver = finding['waiver'] or {}
    return waiver['id'] if waiver.get('id') and waiver['id'] != finding['id'] else ''


def _named_waivers(findings: list) -> bool:
    return any(waiver_label(item) for item in findings)


def _select(host: dict, *statuses: str) -> list:
    return [item for item in host['findings'] if item['status'] in statuses]


# --- JSON ------------------------------------------------------------------------------------

def render_json(report: dict) -> str:
    """report.json: the whole report, keys sorted."""
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + '\n'


# --- JUnit XML -------------------------------------------------------------------------------

def indent_xml(element: ET.Element, level: int = 0) -> None:
    """Pretty-print in place (ElementTree.indent needs Python 3.9); only whitespace between elements."""
    pad = '\n' + '  ' * level
    children = list(element)
    if children:
        if not (element.text or '').strip():
            element.text = pad + '  '
        for child in children:
            indent_xml(child, level + 1)
            if not (child.tail or '').strip():
                child.tail = pad + '  '
        children[-1].tail = pad
    if level == 0:
        element.tail = None


def unknown_controls(report: dict, key=lambda control_id: control_id) -> list:
    """The controls of the report's findings that the catalogue does not have (a merged report of an older or newer
    collection), as catalogue entries made of the first finding of each (its id, title, severity, fix); ``key`` gives
    the name a format knows a control by, where two ids may meet (XCCDF's rule ids)."""
    taken = {key(control['id']) for control in CONTROLS}
    found = {}
    for host in report['hosts']:
        for finding in host['findings']:
            if key(finding['id']) not in taken:
                taken.add(key(finding['id']))
                found[finding['id']] = {
                    'id': finding['id'], 'title': finding['title'] or finding['id'], 'severity': finding['severity'],
                    'check': 'Not in the catalogue of this collection: the finding\'s own text.', 'rationale': '',
                    'fix': finding['fix'], 'references': {'book': list(finding['references']), 'stig': []}}
    return [found[name] for name in sorted(found)]


def finding_facts(finding: dict) -> str:
    """What was expected and found, where and on what evidence, in one line (XCCDF messages, OSCAL observations)."""
    parts = ['expected: %s' % finding['expected'], 'actual: %s' % finding['actual']]
    if finding['path']:
        parts.append('path: %s' % finding['path'])
    if finding['evidence']:
        parts.append('evidence: %s' % finding['evidence'])
    return '; '.join(parts)


def _detail(finding: dict) -> str:
    """The body of a JUnit failure or error: everything an auditor needs to act on the finding."""
    lines = ['%s %s (severity %s, family %s)' % (finding['id'], finding['title'], finding['severity'], finding['family']),
             'expected: %s' % finding['expected'], 'actual:   %s' % finding['actual']]
    if finding['path']:
        lines.append('path:     %s' % finding['path'])
    if finding['evidence']:
        lines.append('evidence:')
        lines.extend('  ' + line for line in finding['evidence'].splitlines())
    if finding['fix']:
        lines.append('fix:      %s' % finding['fix'])
    if finding['references']:
        lines.append('references: %s' % '; '.join(finding['references']))
    waiver = finding['waiver']
    if waiver:
        name = waiver_label(finding) + ' ' if waiver_label(finding) else ''
        state = 'expired' if waiver['expired'] else 'expires'
        lines.append('waiver:   %s%s on %s (%s)' % (name, state, waiver['expires'], waiver['reason']))
    return '\n'.join(lines) + '\n'


def _skip_message(finding: dict) -> str:
    waiver = finding['waiver']
    if finding['status'] == 'waived' and waiver:
        by = ' by %s' % waiver_label(finding) if waiver_label(finding) else ''
        return 'waived%s until %s: %s' % (by, waiver['expires'] or 'further notice', waiver['reason'])
    if finding['status'] == 'waived':
        return 'waived'
    return 'not applicable' + (': %s' % finding['evidence'] if finding['evidence'] else '')


def _junit_counts(host: dict) -> dict:
    if not host['reachable']:
        return {'tests': 1, 'failures': 0, 'errors': 1, 'skipped': 0}
    counts = host['counts']
    # One more skipped test case for a host without sendmail, and one for each control excluded.
    more = (1 if host['verdict'] == 'no_sendmail' else 0) + len(host['excluded'])
    return {'tests': host['controls_evaluated'] + more, 'failures': counts['fail'], 'errors': counts['error'],
            'skipped': counts['not_applicable'] + counts['waived'] + more}


def since_text(report: dict, finding: dict) -> str:
    """'new since 2026-11-01T...' or 'open since 2026-10-01T... (31 days)' for a drifting finding of a compared report."""
    delta = report.get('delta')
    if not delta or not finding.get('open_since'):
        return ''
    if finding['open_since'] == report['generated_at']:
        return 'new since %s' % delta['compared_with']['generated_at']
    days = days_between(finding['open_since'], report['generated_at'])
    return 'open since %s%s' % (finding['open_since'], '' if days is None else ' (%s)' % plural(days, 'day'))


def _testcase(suite: ET.Element, report: dict, host: dict, finding: dict, fixed: bool) -> None:
    case = ET.SubElement(suite, 'testcase', {
        'classname': CLASSNAME_PREFIX + host['host'], 'name': '%s %s' % (finding['id'], finding['title']), 'time': '0',
    })
    status = finding['status']
    since = since_text(report, finding)
    if fixed:
        ET.SubElement(case, 'system-out').text = 'fixed since %s\n' % report['delta']['compared_with']['generated_at']
    if status == 'fail':
        message = ('[%s] ' % since if since else '') + 'expected %s, found %s' % (finding['expected'], finding['actual'])
        ET.SubElement(case, 'failure', {'message': message, 'type': 'drift'}).text = _detail(finding)
    elif status == 'error':
        message = 'could not evaluate: %s' % ((finding['evidence'] or finding['actual'] or 'no detail').splitlines() or [''])[0]
        ET.SubElement(case, 'error', {'message': message, 'type': 'error'}).text = _detail(finding)
    elif status in ('not_applicable', 'waived'):
        ET.SubElement(case, 'skipped', {'message': _skip_message(finding)})


def _merged_from(report: dict, host: dict) -> list:
    """The property naming the report a merged host was taken from."""
    merged = report.get('merged')
    return [('merged_from', clean(merged['kept'].get(host['host'])))] if merged else []


def merged_text(report: dict) -> str:
    """Which reports a merged report was made of ("3 reports: ..."), and where hosts in more than one were taken from."""
    merged = report.get('merged')
    if not merged:
        return ''
    text = '%s: %s' % (plural(len(merged['sources']), 'report'), '; '.join(
        '%s (%s, %s%s)' % (clean(source['path']), clean(source['generated_at']), plural(source['hosts'], 'host'),
                           ', %d without sendmail' % source['hosts_no_sendmail'] if source.get('hosts_no_sendmail') else '')
        for source in merged['sources']))
    if merged['duplicates']:
        text += '. In more than one, each taken from the newest: %s' % '; '.join(
            '%s from %s (left out: %s)' % (clean(item['host']), clean(item['kept_from']), ', '.join(clean(p) for p in item['left_out']))
            for item in merged['duplicates'])
    return text + '.'


# Where sendmail was found, or what showed it where none answered: junit.xml properties, where the audit said.
_SENDMAIL_PROPERTIES = (('sendmail_program', 'program'), ('sendmail_found', 'found'), ('sendmail_seen', 'seen'))


def _left_out(host: dict) -> list:
    """The properties naming a host's controls left out, where there are any."""
    return [(name, ','.join(ids)) for name, ids in (('controls_excluded', [item['id'] for item in host['excluded']]),
                                                    ('controls_waived', host['waived'])) if ids]


def render_junit(report: dict) -> str:
    """junit.xml: one testsuite per host, one testcase per host and control.

    Valid against the JUnit schema of Jenkins (junit-10.xsd), whose ``testsuites`` element has no
    ``skipped`` attribute: the skipped count is on each ``testsuite``.
    """
    sums = {'tests': 0, 'failures': 0, 'errors': 0}
    root = ET.Element('testsuites', {'name': 'sendmail audit, baseline %s' % report['baseline']})
    for host in report['hosts']:
        counts = _junit_counts(host)
        for key in sums:
            sums[key] += counts[key]
        suite = ET.SubElement(root, 'testsuite', {
            'name': host['host'], 'hostname': host['host'], 'package': CLASSNAME_PREFIX.rstrip('.'),
            'timestamp': report['generated_at'], 'time': '0',
            'tests': str(counts['tests']), 'failures': str(counts['failures']), 'errors': str(counts['errors']),
            'skipped': str(counts['skipped']),
        })
        properties = ET.SubElement(suite, 'properties')
        sendmail = host['sendmail']
        changes = host_delta(report, host['host'])
        compared = [('compared_with', clean(report['delta']['compared_with']['generated_at']))] + [
            ('drift_%s' % kind, ','.join(changes[kind])) for kind in ('new', 'fixed', 'still_open')] if report.get('delta') else []
        found = [(name, clean(sendmail[key])) for name, key in _SENDMAIL_PROPERTIES if sendmail.get(key)]
        for name, value in [('baseline', report['baseline']), ('collection_version', report['collection_version']),
                            ('reachable', str(host['reachable']).lower()), ('verdict', host['verdict']),
                            ('sendmail_installed', clean(sendmail.get('installed')).lower()),
                            ('sendmail_version', clean(sendmail.get('version'))),
                            ('drop_method', clean(sendmail.get('drop_method')))] + found + _left_out(host) + compared + _merged_from(report, host):
            ET.SubElement(properties, 'property', {'name': name, 'value': value})
        if not host['reachable']:
            case = ET.SubElement(suite, 'testcase', {'classname': CLASSNAME_PREFIX + host['host'], 'name': UNREACHABLE_CASE, 'time': '0'})
            ET.SubElement(case, 'error', {'message': host['msg'] or 'the host could not be audited', 'type': 'unreachable'}).text = (
                (host['msg'] or 'the host could not be audited') + '\n')
            continue
        if host['verdict'] == 'no_sendmail':
            case = ET.SubElement(suite, 'testcase', {'classname': CLASSNAME_PREFIX + host['host'], 'name': NO_SENDMAIL_CASE, 'time': '0'})
            ET.SubElement(case, 'skipped', {'message': 'no sendmail on this host: %s' % no_sendmail_text(host)})
        for finding in host['findings']:
            _testcase(suite, report, host, finding, finding['id'] in changes['fixed'])
        for item in host['excluded']:
            case = ET.SubElement(suite, 'testcase', {'classname': CLASSNAME_PREFIX + host['host'],
                                                     'name': '%s %s' % (item['id'], item['title']), 'time': '0'})
            ET.SubElement(case, 'skipped', {'message': EXCLUDED_MESSAGE})
    root.set('tests', str(sums['tests']))
    root.set('failures', str(sums['failures']))
    root.set('errors', str(sums['errors']))
    root.set('time', '0')
    indent_xml(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding='unicode') + '\n'


# --- Markdown --------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r'([\\`*_\[\]|~])')


def md_text(value) -> str:
    """Inline Markdown text: HTML and Markdown syntax escaped, on one line."""
    text = html.escape(clean(value), quote=False)
    text = _MD_SPECIAL.sub(r'\\\1', text)
    return ' '.join(text.split())


def md_code(value) -> str:
    """An inline code span holding ``value`` literally, on one line."""
    text = ' '.join(clean(value).split()) or ' '
    longest = max((len(run) for run in re.findall('`+', text)), default=0)
    fence = '`' * (longest + 1)
    if text.startswith('`') or text.endswith('`'):
        text = ' %s ' % text
    return fence + text + fence


def md_block(value) -> str:
    """A fenced code block holding ``value`` literally."""
    text = clean(value).rstrip('\n')
    longest = max((len(run) for run in re.findall('`{3,}', text)), default=2)
    fence = '`' * (longest + 1)
    return '%stext\n%s\n%s' % (fence, text, fence)


def _md_finding(finding: dict, since: str = '') -> list:
    lines = ['#### %s %s: %s' % (finding['status'].upper(), md_text(finding['id']), md_text(finding['title'])), '',
             '- **Severity:** %s, **family:** %s' % (md_text(finding['severity']), md_text(finding['family']))]
    if since:
        lines.append('- **Since the last audit:** %s' % md_text(since))
    lines += ['- **Expected:** %s' % md_code(finding['expected']), '- **Actual:** %s' % md_code(finding['actual'])]
    if finding['path']:
        lines.append('- **Path:** %s' % md_code(finding['path']))
    if finding['fix']:
        lines.append('- **Fix:** %s' % md_text(finding['fix']))
    if finding['references']:
        lines.append('- **References:** %s' % '; '.join(md_text(ref) for ref in finding['references']))
    waiver = finding['waiver']
    if waiver and waiver['expired']:
        name = ' ' + md_text(waiver_label(finding)) if waiver_label(finding) else ''
        lines.append('- **Waiver%s expired on %s:** %s' % (name, md_text(waiver['expires']), md_text(waiver['reason'])))
    if finding['evidence']:
        lines.extend(['', 'Evidence:', '', md_block(finding['evidence'])])
    lines.append('')
    return lines


def _md_host(report: dict, host: dict) -> list:
    lines = ['## %s' % md_text(host['host']), '']
    if not host['reachable']:
        return lines + ['**Not audited:** %s' % md_text(host['msg'] or 'no reason given'), '']
    sendmail = host['sendmail']
    if host['verdict'] == 'no_sendmail':
        return lines + ['No sendmail on this host: %s.' % md_text(no_sendmail_text(host).rstrip('.')), '']
    if sendmail.get('seen'):
        lines += ['**sendmail cannot be audited:** %s.' % md_text(sendmail['seen']), '']
    elif sendmail.get('installed') is False:
        lines += ['sendmail is not installed.', '']
    elif sendmail:
        version = md_text(sendmail.get('version') or 'unknown')
        lines += ['sendmail %s, privilege drop method %s.' % (version, md_text(sendmail.get('drop_method') or 'unknown')), '']
        if sendmail.get('found'):
            lines += ['Found elsewhere than asked: %s.' % md_text(sendmail['found']), '']
    if host['excluded']:
        lines += [md_text(excluded_text(host)), '']
    failing = _by_severity(_select(host, 'fail', 'error'))
    if failing:
        lines += ['### Controls that fail (%d)' % len(failing), '']
        for finding in failing:
            lines += _md_finding(finding, since_text(report, finding))
    else:
        lines += ['No control fails.', '']
    waived = _select(host, 'waived')
    if waived:
        named = _named_waivers(waived)
        lines += ['### Waived controls (%d)' % len(waived), '',
                  '| Control | Title |%s Reason | Expires |' % (' Waiver |' if named else ''), '|---|---|%s---|---|' % ('---|' if named else '')]
        for finding in waived:
            waiver = finding['waiver'] or {'id': '', 'reason': '', 'expires': ''}
            cells = [finding['id'], finding['title']] + ([waiver_label(finding)] if named else []) + [waiver['reason'], waiver['expires']]
            lines.append('| %s |' % ' | '.join(md_text(cell) for cell in cells))
        lines.append('')
    return lines


# The Drift column of report.md's summary table, by verdict.
_MD_DRIFT = {'drift': 'yes', 'compliant': 'no', 'no_sendmail': 'no sendmail', 'not_audited': 'not audited'}


def render_markdown(report: dict) -> str:
    """report.md: a summary table of the hosts, then each host's failing and waived controls."""
    sums = report['totals']
    lines = [
        '# sendmail audit report', '',
        '- **Baseline:** %s' % md_text(report['baseline']),
        '- **Generated:** %s' % md_text(report['generated_at']),
        '- **Collection:** mailsec.sendmail %s' % md_text(report['collection_version']),
        '- **Result:** %s' % md_text(verdict_text(report)),
    ] + (['- **Merged:** %s' % md_text(merged_text(report))] if report.get('merged') else []) + [
        '',
        '| Host | Drift | Pass | Fail | Error | Waived | N/A |',
        '|---|---|--:|--:|--:|--:|--:|',
    ]
    for host in report['hosts']:
        if not host['reachable']:
            lines.append('| %s | not audited | | | | | |' % md_text(host['host']))
            continue
        counts = host['counts']
        lines.append('| %s | %s | %d | %d | %d | %d | %d |' % (
            md_text(host['host']), _MD_DRIFT[host['verdict']],
            counts['pass'], counts['fail'], counts['error'], counts['waived'], counts['not_applicable']))
    lines.append('| **Total** | %d of %d | %d | %d | %d | %d | %d |' % (
        sums['hosts_drift'], sums['hosts'], sums['pass'], sums['fail'], sums['error'], sums['waived'], sums['not_applicable']))
    lines.append('')
    bare = [host['host'] for host in report['hosts'] if host['verdict'] == 'no_sendmail']
    if bare:
        lines += ['- **Without sendmail** (not counted as meeting the baseline): %s' % md_text(', '.join(bare)), '']
    lines += _md_left_out(report)
    lines += _md_delta(report)
    for host in report['hosts']:
        lines += _md_host(report, host)
    return '\n'.join(lines).rstrip('\n') + '\n'


def left_out_hosts(report: dict, item: dict) -> str:
    """The hosts a control was left out on: 'all' when every audited host."""
    audited = [host['host'] for host in report['hosts'] if host['reachable']]
    return 'all' if item['hosts'] == audited else ', '.join(item['hosts'])


def _md_left_out(report: dict) -> list:
    """The section 'Controls left out': those the selection excluded and those waived, with their hosts."""
    if not report.get('excluded') and not report.get('waived'):
        return []
    lines = ['## Controls left out', '']
    for title, key in (('Excluded', 'excluded'), ('Waived', 'waived')):
        items = report.get(key) or []
        if items:
            lines += ['### %s (%d)' % (title, len(items)), '', '| Control | Title | Hosts |', '|---|---|---|']
            lines += ['| %s | %s | %s |' % (md_text(item['id']), md_text(item['title']), md_text(left_out_hosts(report, item)))
                      for item in items]
            lines.append('')
    return lines


def excluded_text(host: dict) -> str:
    """'Excluded from this audit (4): SM-SMTP-01, ...' of a host whose selection left controls out; empty otherwise."""
    ids = [item['id'] for item in host['excluded']]
    return 'Excluded from this audit (%d): %s.' % (len(ids), ', '.join(ids)) if ids else ''


def _md_delta(report: dict) -> list:
    """The section 'Since the last audit' of a compared report."""
    delta = report.get('delta')
    if not delta:
        return []
    lines = ['## Since the last audit', '', 'Compared with the report of %s (%s).' % (
        md_text(delta['compared_with']['generated_at']), md_code(delta['compared_with']['path'])), '']
    for title, key in (('New drift', 'new'), ('Fixed', 'fixed'), ('Still open', 'still_open')):
        items = delta[key]
        lines += ['### %s (%d)' % (title, len(items)), '']
        if not items:
            lines += ['None.', '']
            continue
        lines += ['| Host | Control | Title |%s' % (' Open since |' if key != 'new' else ''),
                  '|---|---|---|%s' % ('---|' if key != 'new' else '')]
        for item in items:
            since = ''
            if key != 'new':
                days = days_between(item['open_since'], report['generated_at']) if key == 'still_open' else None
                since = ' %s |' % md_text(item['open_since'] + ('' if days is None else ' (%s)' % plural(days, 'day')))
            lines.append('| %s | %s | %s |%s' % (md_text(item['host']), md_text(item['id']), md_text(item['title']), since))
        lines.append('')
    if delta['not_compared'] or delta['hosts_gone']:
        lines += ['Not compared (not audited in one of the two runs): %s.' % md_text(', '.join(delta['not_compared'] + delta['hosts_gone'])), '']
    return lines


def render(report: dict, formats) -> dict:
    """File name to text, for each of ``formats`` (keys of FORMATS), in FORMATS order."""
    # They build on this file.
    from ansible_collections.mailsec.sendmail.plugins.module_utils._report_html import render_html
    from ansible_collections.mailsec.sendmail.plugins.module_utils._report_oscal import render_oscal
    from ansible_collections.mailsec.sendmail.plugins.module_utils._report_scap import render_arf, render_xccdf

    renderers = {'json': render_json, 'junit': render_junit, 'md': render_markdown, 'html': render_html,
                 'xccdf': render_xccdf, 'arf': render_arf, 'oscal': render_oscal}
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ReportError('unknown report formats: %s' % ', '.join(unknown))
    return {FORMATS[name]: renderers[name](report) for name in FORMATS if name in formats}
