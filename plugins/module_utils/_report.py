# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Compliance reports of audit results: JSON, JUnit XML, Markdown and self-contained HTML.

Pure functions: the caller gives the results of every host and the metadata (the time of
the run, the collection version, the baseline's name) and gets the text of each file back.
The same input always gives the same text: hosts are sorted by name, controls by id.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET

STATUSES = ('pass', 'fail', 'error', 'not_applicable', 'waived')
SEVERITIES = ('high', 'medium', 'low')
# Report file name of each format, in the order they are written.
FORMATS = {'json': 'report.json', 'junit': 'junit.xml', 'md': 'report.md', 'html': 'report.html'}
SCHEMA = 'mailsec.sendmail/audit-report/1'
CLASSNAME_PREFIX = 'mailsec.sendmail.'
UNREACHABLE_CASE = 'host audited'

_FINDING_TEXT = ('id', 'title', 'family', 'severity', 'status', 'expected', 'actual', 'evidence', 'fix')
_STATUS_LABEL = {'pass': 'pass', 'fail': 'fail', 'error': 'error', 'not_applicable': 'n/a', 'waived': 'waived'}
# Characters XML 1.0 cannot carry, even escaped (C0 controls but tab and newlines, lone surrogates, U+FFFE/F).
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


def count(findings: list) -> dict:
    """How many findings have each status; every status present."""
    counts = dict.fromkeys(STATUSES, 0)
    for finding in findings:
        counts[finding['status']] += 1
    return counts


def normalise_host(entry) -> dict:
    """A host's result as the reports use it; counts and drift recomputed from the findings.

    A host that could not be audited (``reachable`` false) has no findings and counts as drift:
    nothing shows that it meets the baseline.
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
    return {
        'host': host,
        'reachable': reachable,
        'msg': clean(entry.get('msg')) if not reachable or entry.get('msg') else None,
        'drift': not reachable or counts['fail'] + counts['error'] > 0,
        'counts': counts,
        'controls_evaluated': len(findings),
        'sendmail': _clean_tree(sendmail),
        'findings': findings,
    }


def totals(hosts: list) -> dict:
    """Counts over all hosts: hosts, hosts with drift, unreachable hosts, findings by status."""
    result = {
        'hosts': len(hosts),
        'hosts_drift': sum(1 for host in hosts if host['drift']),
        'hosts_unreachable': sum(1 for host in hosts if not host['reachable']),
        'findings': sum(host['controls_evaluated'] for host in hosts),
    }
    result['hosts_compliant'] = result['hosts'] - result['hosts_drift']
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
        'hosts': hosts,
    }


def failing_ids(host: dict) -> list:
    """Ids of the host's controls that failed or could not be evaluated."""
    return [item['id'] for item in host['findings'] if item['status'] in ('fail', 'error')]


def host_line(host: dict) -> str:
    """One line about a host, for a terminal."""
    if not host['reachable']:
        return '%s: NOT AUDITED (%s)' % (host['host'], host['msg'] or 'no reason given')
    counts = host['counts']
    line = '%s: %s, %d controls: %s' % (
        host['host'], 'DRIFT' if host['drift'] else 'compliant', host['controls_evaluated'],
        ', '.join('%d %s' % (counts[status], _STATUS_LABEL[status]) for status in STATUSES),
    )
    failing = failing_ids(host)
    if failing:
        line += ' [%s]' % ', '.join(failing)
    return line


def summary(report: dict) -> dict:
    """What changed between two runs: per host drift, counts and failing ids; no timestamp."""
    return {
        'baseline': report['baseline'],
        'drift': report['drift'],
        'totals': report['totals'],
        'hosts': {
            host['host']: {'reachable': host['reachable'], 'drift': host['drift'], 'counts': host['counts'], 'failing': failing_ids(host)}
            for host in report['hosts']
        },
    }


def plural(number: int, noun: str) -> str:
    """``1 host``, ``2 hosts``."""
    return '%d %s%s' % (number, noun, '' if number == 1 else 's')


def verdict_text(report: dict) -> str:
    """The result of the whole audit in one sentence."""
    sums = report['totals']
    if not sums['hosts']:
        return 'No host was audited'
    if report['drift']:
        return 'Drift on %d of %s' % (sums['hosts_drift'], plural(sums['hosts'], 'host'))
    return 'The host meets the baseline' if sums['hosts'] == 1 else 'All %d hosts meet the baseline' % sums['hosts']


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

def _indent(element: ET.Element, level: int = 0) -> None:
    """Pretty-print in place (ElementTree.indent needs Python 3.9); only whitespace between elements."""
    pad = '\n' + '  ' * level
    children = list(element)
    if children:
        if not (element.text or '').strip():
            element.text = pad + '  '
        for child in children:
            _indent(child, level + 1)
            if not (child.tail or '').strip():
                child.tail = pad + '  '
        children[-1].tail = pad
    if level == 0:
        element.tail = None


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
    return {'tests': host['controls_evaluated'], 'failures': counts['fail'], 'errors': counts['error'],
            'skipped': counts['not_applicable'] + counts['waived']}


def _testcase(suite: ET.Element, host: dict, finding: dict) -> None:
    case = ET.SubElement(suite, 'testcase', {
        'classname': CLASSNAME_PREFIX + host['host'], 'name': '%s %s' % (finding['id'], finding['title']), 'time': '0',
    })
    status = finding['status']
    if status == 'fail':
        message = 'expected %s, found %s' % (finding['expected'], finding['actual'])
        ET.SubElement(case, 'failure', {'message': message, 'type': 'drift'}).text = _detail(finding)
    elif status == 'error':
        message = 'could not evaluate: %s' % ((finding['evidence'] or finding['actual'] or 'no detail').splitlines() or [''])[0]
        ET.SubElement(case, 'error', {'message': message, 'type': 'error'}).text = _detail(finding)
    elif status in ('not_applicable', 'waived'):
        ET.SubElement(case, 'skipped', {'message': _skip_message(finding)})


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
        for name, value in (('baseline', report['baseline']), ('collection_version', report['collection_version']),
                            ('reachable', str(host['reachable']).lower()),
                            ('sendmail_installed', clean(sendmail.get('installed')).lower()),
                            ('sendmail_version', clean(sendmail.get('version'))), ('drop_method', clean(sendmail.get('drop_method')))):
            ET.SubElement(properties, 'property', {'name': name, 'value': value})
        if not host['reachable']:
            case = ET.SubElement(suite, 'testcase', {'classname': CLASSNAME_PREFIX + host['host'], 'name': UNREACHABLE_CASE, 'time': '0'})
            ET.SubElement(case, 'error', {'message': host['msg'] or 'the host could not be audited', 'type': 'unreachable'}).text = (
                (host['msg'] or 'the host could not be audited') + '\n')
            continue
        for finding in host['findings']:
            _testcase(suite, host, finding)
    root.set('tests', str(sums['tests']))
    root.set('failures', str(sums['failures']))
    root.set('errors', str(sums['errors']))
    root.set('time', '0')
    _indent(root)
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


def _md_finding(finding: dict) -> list:
    lines = ['#### %s %s: %s' % (finding['status'].upper(), md_text(finding['id']), md_text(finding['title'])), '',
             '- **Severity:** %s, **family:** %s' % (md_text(finding['severity']), md_text(finding['family'])),
             '- **Expected:** %s' % md_code(finding['expected']),
             '- **Actual:** %s' % md_code(finding['actual'])]
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


def _md_host(host: dict) -> list:
    lines = ['## %s' % md_text(host['host']), '']
    if not host['reachable']:
        return lines + ['**Not audited:** %s' % md_text(host['msg'] or 'no reason given'), '']
    sendmail = host['sendmail']
    if sendmail.get('installed') is False:
        lines += ['sendmail is not installed.', '']
    elif sendmail:
        version = md_text(sendmail.get('version') or 'unknown')
        lines += ['sendmail %s, privilege drop method %s.' % (version, md_text(sendmail.get('drop_method') or 'unknown')), '']
    failing = _by_severity(_select(host, 'fail', 'error'))
    if failing:
        lines += ['### Controls that fail (%d)' % len(failing), '']
        for finding in failing:
            lines += _md_finding(finding)
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


def render_markdown(report: dict) -> str:
    """report.md: a summary table of the hosts, then each host's failing and waived controls."""
    sums = report['totals']
    lines = [
        '# sendmail audit report', '',
        '- **Baseline:** %s' % md_text(report['baseline']),
        '- **Generated:** %s' % md_text(report['generated_at']),
        '- **Collection:** mailsec.sendmail %s' % md_text(report['collection_version']),
        '- **Result:** %s' % md_text(verdict_text(report)),
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
            md_text(host['host']), 'yes' if host['drift'] else 'no',
            counts['pass'], counts['fail'], counts['error'], counts['waived'], counts['not_applicable']))
    lines.append('| **Total** | %d of %d | %d | %d | %d | %d | %d |' % (
        sums['hosts_drift'], sums['hosts'], sums['pass'], sums['fail'], sums['error'], sums['waived'], sums['not_applicable']))
    lines.append('')
    for host in report['hosts']:
        lines += _md_host(host)
    return '\n'.join(lines).rstrip('\n') + '\n'


# --- HTML ------------------------------------------------------------------------------------

_CSS = """
:root{--ink:#1f2933;--muted:#616e7c;--line:#d9dee4;--bg:#f5f7fa;--card:#fff;--red:#b42318;--red-bg:#fdecea;
--green:#1e7b34;--green-bg:#e6f4ea;--amber:#8a5a00;--amber-bg:#fff4d6;--grey:#52606d;--grey-bg:#eceff2;--blue:#1d4f91}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:15px/1.5 -apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1180px;margin:0 auto;padding:28px 32px 48px}
header.top{background:#17212b;color:#fff;padding:26px 32px}
header.top .inner{max-width:1116px;margin:0 auto}
header.top h1{margin:0 0 4px;font-size:24px;font-weight:600;letter-spacing:.2px}
header.top .meta{color:#c1cad4;font-size:13px}
header.top .meta span{margin-right:18px;white-space:nowrap}
.verdict{display:inline-block;margin-top:14px;padding:5px 12px;border-radius:4px;font-weight:600;font-size:14px}
.verdict.bad{background:var(--red);color:#fff}.verdict.good{background:var(--green);color:#fff}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(140px,1fr));gap:12px;margin:0 0 28px}
.tile{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px 14px}
.tile .n{font-size:26px;font-weight:600;line-height:1.2}.tile .l{color:var(--muted);font-size:13px}
.tile.bad .n{color:var(--red)}.tile.good .n{color:var(--green)}.tile.warn .n{color:var(--amber)}
h2{font-size:19px;margin:34px 0 12px;padding-bottom:6px;border-bottom:2px solid var(--line)}
h3{font-size:15px;margin:20px 0 10px;color:var(--muted);text-transform:uppercase;letter-spacing:.5px}
table{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line);border-radius:6px;overflow:hidden}
th,td{padding:8px 12px;text-align:left;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#eef1f5;font-size:12px;text-transform:uppercase;letter-spacing:.4px;color:var(--muted)}
tr:last-child td{border-bottom:0}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600;background:#f8f9fb}
a{color:var(--blue);text-decoration:none}a:hover{text-decoration:underline}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap;letter-spacing:.3px}
.b-fail,.b-drift,.b-error,.b-unreachable,.b-high{background:var(--red-bg);color:var(--red)}
.b-pass,.b-ok{background:var(--green-bg);color:var(--green)}
.b-waived,.b-medium{background:var(--amber-bg);color:var(--amber)}
.b-na,.b-low,.b-family{background:var(--grey-bg);color:var(--grey)}
.zero{color:#b0b8c1}
.host-head{display:flex;align-items:center;gap:12px;flex-wrap:wrap;margin:38px 0 10px;padding-bottom:6px;border-bottom:2px solid var(--line)}
.host-head h2{margin:0;padding:0;border:0}
.facts{color:var(--muted);font-size:14px;margin:-4px 0 12px}
.finding{background:var(--card);border:1px solid var(--line);border-left:4px solid var(--red);border-radius:6px;padding:14px 16px;margin:0 0 14px}
.finding.error{border-left-color:#7a271a}
.finding .head{display:flex;gap:8px;align-items:baseline;flex-wrap:wrap;margin-bottom:8px}
.finding .id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-weight:600}
.finding .title{font-weight:600}
dl{display:grid;grid-template-columns:110px 1fr;gap:4px 14px;margin:0}
dt{color:var(--muted);font-size:13px;padding-top:2px}dd{margin:0;min-width:0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
code{background:#f0f2f5;padding:1px 5px;border-radius:3px;word-break:break-word}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:4px;padding:8px 10px;margin:2px 0;white-space:pre-wrap;word-break:break-word}
.fix{background:#f3f8ff;border:1px solid #cfe0f7;border-radius:4px;padding:6px 10px}
ul.refs{margin:0;padding-left:18px}
.note{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px 16px;color:var(--muted)}
.note.bad{border-left:4px solid var(--red);color:var(--ink)}
details{background:var(--card);border:1px solid var(--line);border-radius:6px;margin:0 0 12px}
details summary{cursor:pointer;padding:10px 14px;font-weight:600}
details[open] summary{border-bottom:1px solid var(--line)}
details table{border:0;border-radius:0}
footer{color:var(--muted);font-size:12px;margin-top:40px;border-top:1px solid var(--line);padding-top:10px}
@media print{body{background:#fff}header.top{background:#fff;color:#000;border-bottom:2px solid #000}
header.top .meta{color:#333}.finding,details,table{break-inside:avoid}}
"""


def _e(value) -> str:
    """Escaped text for HTML content and quoted attribute values."""
    return html.escape(clean(value), quote=True)


def _badge(kind: str, text: str) -> str:
    return '<span class="badge b-%s">%s</span>' % (kind, _e(text))


_STATUS_BADGE = {'pass': ('pass', 'PASS'), 'fail': ('fail', 'FAIL'), 'error': ('error', 'ERROR'),
                 'not_applicable': ('na', 'N/A'), 'waived': ('waived', 'WAIVED')}


def _host_badge(host: dict) -> str:
    if not host['reachable']:
        return _badge('unreachable', 'NOT AUDITED')
    return _badge('drift', 'DRIFT') if host['drift'] else _badge('ok', 'COMPLIANT')


def _num(value: int, kind: str = '') -> str:
    if not value:
        return '<td class="num zero">0</td>'
    return '<td class="num">%s</td>' % (_badge(kind, str(value)) if kind else str(value))


def _html_finding(finding: dict) -> str:
    kind, label = _STATUS_BADGE[finding['status']]
    rows = [('Expected', '<code>%s</code>' % _e(finding['expected'])), ('Actual', '<code>%s</code>' % _e(finding['actual']))]
    if finding['path']:
        rows.append(('Path', '<code>%s</code>' % _e(finding['path'])))
    if finding['evidence']:
        rows.append(('Evidence', '<pre>%s</pre>' % _e(finding['evidence'])))
    if finding['fix']:
        rows.append(('Fix', '<div class="fix">%s</div>' % _e(finding['fix'])))
    if finding['references']:
        rows.append(('References', '<ul class="refs">%s</ul>' % ''.join('<li>%s</li>' % _e(ref) for ref in finding['references'])))
    waiver = finding['waiver']
    if waiver and waiver['expired']:
        name = _e(waiver_label(finding) + ' ' if waiver_label(finding) else '')
        rows.append(('Waiver', '%s %sexpired on %s: %s' % (_badge('waived', 'EXPIRED'), name, _e(waiver['expires']), _e(waiver['reason']))))
    return (
        '<article class="finding%s">\n<div class="head">%s <span class="id">%s</span> <span class="title">%s</span> %s %s</div>\n'
        '<dl>\n%s\n</dl>\n</article>' % (
            ' error' if finding['status'] == 'error' else '', _badge(kind, label), _e(finding['id']), _e(finding['title']),
            _badge(finding['severity'] if finding['severity'] in SEVERITIES else 'na', finding['severity']),
            _badge('family', finding['family']),
            '\n'.join('<dt>%s</dt><dd>%s</dd>' % (name, value) for name, value in rows),
        )
    )


def _html_table(findings: list, columns: tuple) -> str:
    head = ''.join('<th>%s</th>' % _e(title) for title, dummy in columns)
    body = '\n'.join('<tr>%s</tr>' % ''.join('<td>%s</td>' % cell(item) for dummy, cell in columns) for item in findings)
    return '<table>\n<thead><tr>%s</tr></thead>\n<tbody>\n%s\n</tbody>\n</table>' % (head, body)


def _html_details(title: str, findings: list, columns: tuple) -> str:
    if not findings:
        return ''
    return '<details>\n<summary>%s (%d)</summary>\n%s\n</details>' % (_e(title), len(findings), _html_table(findings, columns))


_ID_COLUMN = ('Control', lambda item: '<code>%s</code>' % _e(item['id']))
_TITLE_COLUMN = ('Title', lambda item: _e(item['title']))


def _html_host(index: int, host: dict) -> str:
    parts = ['<section id="host-%d">' % index,
             '<div class="host-head"><h2>%s</h2>%s</div>' % (_e(host['host']), _host_badge(host))]
    if not host['reachable']:
        parts.append('<p class="note bad">The audit could not run on this host: %s</p>' % _e(host['msg'] or 'no reason given'))
        parts.append('</section>')
        return '\n'.join(parts)
    sendmail = host['sendmail']
    if sendmail.get('installed') is False:
        parts.append('<p class="facts">sendmail is not installed.</p>')
    elif sendmail:
        parts.append('<p class="facts">sendmail %s &middot; privilege drop method %s &middot; %d controls evaluated</p>' % (
            _e(sendmail.get('version') or 'unknown'), _e(sendmail.get('drop_method') or 'unknown'), host['controls_evaluated']))
    failing = _by_severity(_select(host, 'fail', 'error'))
    if failing:
        parts.append('<h3>Controls that fail (%d)</h3>' % len(failing))
        parts.extend(_html_finding(finding) for finding in failing)
    else:
        parts.append('<p class="note">No control fails on this host.</p>')
    waived = _select(host, 'waived')
    if waived:
        parts.append('<h3>Waived controls (%d)</h3>' % len(waived))
        named = (('Waiver', lambda item: _e(waiver_label(item))),) if _named_waivers(waived) else ()
        parts.append(_html_table(waived, (_ID_COLUMN, _TITLE_COLUMN) + named + (
            ('Reason', lambda item: _e((item['waiver'] or {}).get('reason'))),
            ('Expires', lambda item: _e((item['waiver'] or {}).get('expires'))),
        )))
    columns = (_ID_COLUMN, _TITLE_COLUMN, ('Severity', lambda item: _e(item['severity'])),
               ('Actual', lambda item: '<code>%s</code>' % _e(item['actual'])))
    passing = _select(host, 'pass')
    not_applicable = _select(host, 'not_applicable')
    if passing or not_applicable:
        parts.append('<h3>Other controls</h3>')
    parts.append(_html_details('Passing controls', passing, columns))
    parts.append(_html_details('Not applicable', not_applicable, (
        _ID_COLUMN, _TITLE_COLUMN, ('Why', lambda item: _e(item['evidence'] or item['actual'])))))
    parts.append('</section>')
    return '\n'.join(part for part in parts if part)


def _html_summary(report: dict) -> str:
    rows = []
    for index, host in enumerate(report['hosts']):
        link = '<a href="#host-%d">%s</a>' % (index, _e(host['host']))
        if not host['reachable']:
            rows.append('<tr><td>%s</td><td>%s</td><td colspan="6">%s</td></tr>' % (link, _host_badge(host), _e(host['msg'])))
            continue
        counts = host['counts']
        version = host['sendmail'].get('version') or ('not installed' if host['sendmail'].get('installed') is False else '')
        rows.append('<tr><td>%s</td><td>%s</td><td>%s</td>%s%s%s%s%s</tr>' % (
            link, _host_badge(host), _e(version), _num(counts['pass']), _num(counts['fail'], 'fail'),
            _num(counts['error'], 'error'), _num(counts['waived'], 'waived'), _num(counts['not_applicable'])))
    sums = report['totals']
    return (
        '<table>\n<thead><tr><th>Host</th><th>Status</th><th>sendmail</th><th class="num">Pass</th><th class="num">Fail</th>'
        '<th class="num">Error</th><th class="num">Waived</th><th class="num">N/A</th></tr></thead>\n<tbody>\n%s\n</tbody>\n'
        '<tfoot><tr><td>Total</td><td>%d of %d drift</td><td></td><td class="num">%d</td><td class="num">%d</td>'
        '<td class="num">%d</td><td class="num">%d</td><td class="num">%d</td></tr></tfoot>\n</table>' % (
            '\n'.join(rows), sums['hosts_drift'], sums['hosts'], sums['pass'], sums['fail'], sums['error'], sums['waived'],
            sums['not_applicable'])
    )


def _tile(value: int, label: str, kind: str) -> str:
    return '<div class="tile %s"><div class="n">%d</div><div class="l">%s</div></div>' % (kind if value else '', value, _e(label))


def render_html(report: dict) -> str:
    """report.html: one self-contained page (inline CSS, no script, no external resource)."""
    sums = report['totals']
    verdict = '<div class="verdict %s">%s</div>' % ('bad' if report['drift'] else 'good', _e(verdict_text(report)))
    tiles = ''.join((
        _tile(sums['hosts'], 'hosts audited' if not sums['hosts_unreachable'] else 'hosts', ''),
        _tile(sums['hosts_drift'], 'hosts with drift', 'bad'),
        _tile(sums['hosts_unreachable'], 'hosts not audited', 'bad'),
        _tile(sums['fail'], 'failed controls', 'bad'),
        _tile(sums['error'], 'controls in error', 'bad'),
        _tile(sums['waived'], 'waived', 'warn'),
        _tile(sums['pass'], 'passed controls', 'good'),
    ))
    body = '\n'.join(_html_host(index, host) for index, host in enumerate(report['hosts']))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<title>sendmail audit report: %(baseline)s</title>\n<style>%(css)s</style>\n</head>\n<body>\n'
        '<header class="top"><div class="inner">\n<h1>sendmail audit report</h1>\n'
        '<div class="meta"><span>Baseline: %(baseline)s</span><span>Generated: %(generated)s</span>'
        '<span>mailsec.sendmail %(version)s</span></div>\n%(verdict)s\n</div></header>\n<main>\n'
        '<div class="tiles">%(tiles)s</div>\n<h2>Hosts</h2>\n%(summary)s\n%(body)s\n'
        '<footer>%(results)s on %(hosts)s, generated %(generated)s by mailsec.sendmail %(version)s.</footer>\n</main>\n</body>\n</html>\n'
    ) % {
        'baseline': _e(report['baseline']), 'generated': _e(report['generated_at']), 'version': _e(report['collection_version']),
        'css': _CSS, 'verdict': verdict, 'tiles': tiles, 'summary': _html_summary(report), 'body': body,
        'results': plural(sums['findings'], 'control result'), 'hosts': plural(sums['hosts'], 'host'),
    }


RENDERERS = {'json': render_json, 'junit': render_junit, 'md': render_markdown, 'html': render_html}


def render(report: dict, formats) -> dict:
    """File name to text, for each of ``formats`` (keys of FORMATS), in FORMATS order."""
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ReportError('unknown report formats: %s' % ', '.join(unknown))
    return {FORMATS[name]: RENDERERS[name](report) for name in FORMATS if name in formats}
