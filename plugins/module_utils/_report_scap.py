# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The catalogue as an XCCDF 1.2 Benchmark, and audit reports as XCCDF 1.2 results and an ARF 1.1 collection.

Pure functions, like the other report formats: the same report always gives the same text. The ids follow
XCCDF 1.2's ``xccdf_<namespace>_<type>_<name>`` form with the collection's name as the namespace.

How our statuses read in XCCDF: ``pass``, ``fail``, ``error`` as they are; ``not_applicable`` is
``notapplicable``; a control the audit's selection left out is ``notselected``; every control of a host
that could not be audited is an ``error``, since nothing shows it meets the baseline. A waived control is
``informational`` (out of the score, like a waiver), its message naming the waiver and what fails. XCCDF's
``override`` would be the place for a waiver, but OpenSCAP's schematron (1.3) rejects a TestResult where one
rule-result has an override and another has none, and the tools that load these files validate with it.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from ansible_collections.mailsec.sendmail.plugins.module_utils._controls import CONTROLS, FAMILIES, FAMILY_TITLES
from ansible_collections.mailsec.sendmail.plugins.module_utils._report import finding_facts, indent_xml, waiver_label
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import host_delta

XCCDF = 'http://checklists.nist.gov/xccdf/1.2'
ARF = 'http://scap.nist.gov/schema/asset-reporting-format/1.1'
CORE = 'http://scap.nist.gov/schema/reporting-core/1.1'
AI = 'http://scap.nist.gov/schema/asset-identification/1.1'
DS = 'http://scap.nist.gov/schema/scap/source/1.2'
XLINK = 'http://www.w3.org/1999/xlink'
DC = 'http://purl.org/dc/elements/1.1/'
ARF_RELATIONS = 'http://scap.nist.gov/specs/arf/vocabulary/relationships/1.0#'
for _prefix, _uri in (('xccdf', XCCDF), ('arf', ARF), ('core', CORE), ('ai', AI), ('ds', DS), ('xlink', XLINK), ('dc', DC)):
    ET.register_namespace(_prefix, _uri)

NAMESPACE = 'mailsec.sendmail'
BENCHMARK_ID = 'xccdf_%s_benchmark_baseline' % NAMESPACE
PROFILE_ID = 'xccdf_%s_profile_baseline' % NAMESPACE
SCORING = 'urn:xccdf:scoring:flat'
# The CPE URI binding: OpenSCAP 1.3 refuses a formatted string (cpe:2.3:…) that no platform-specification defines.
PLATFORM = 'cpe:/a:sendmail:sendmail'
# The checking tool, as XCCDF asks a TestResult to name it.
TEST_SYSTEM = 'cpe:/a:mailsec:sendmail_collection:%s'
_NOT_CPE = re.compile(r'[^A-Za-z0-9._-]')
# DISA's legacy STIG ids (GEN… and V-…), as DISA's own SCAP content names that system.
STIG_SYSTEM = 'http://cyber.mil/legacy'
_STIG_IDS = re.compile(r'\b(GEN\d+|V-\d+)\b')
_RESULT = {'pass': 'pass', 'fail': 'fail', 'error': 'error', 'not_applicable': 'notapplicable', 'waived': 'informational'}
_NOT_NCNAME = re.compile(r'[^A-Za-z0-9._-]')
# What Asset Identification's patterns take as a host name and an IPv4 address.
_HOST_NAME = re.compile(r'[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*')
_IPV4 = re.compile(r'\d{1,3}(\.\d{1,3}){3}')
FACT = 'urn:%s:fact:' % NAMESPACE
# The facts of sendmail a host result holds, as XCCDF target facts.
_FACTS = (('sendmail:installed', 'installed', 'boolean'), ('sendmail:version', 'version', 'string'),
          ('sendmail:drop-method', 'drop_method', 'string'), ('sendmail:program', 'program', 'string'))


def _x(tag: str) -> str:
    return '{%s}%s' % (XCCDF, tag)


def _text(parent, tag: str, text, attrs: dict | None = None):
    node = ET.SubElement(parent, _x(tag), attrs or {})
    node.text = '' if text is None else str(text)
    return node


def rule_id(control_id: str) -> str:
    return 'xccdf_%s_rule_%s' % (NAMESPACE, control_id)


def group_id(family: str) -> str:
    return 'xccdf_%s_group_%s' % (NAMESPACE, family)


def stig_idents(control: dict) -> list:
    """The STIG items of a control's references, as XCCDF ident values."""
    return [found for ref in control['references']['stig'] for found in _STIG_IDS.findall(ref)]


def _rule(parent, control: dict) -> None:
    rule = ET.SubElement(parent, _x('Rule'), {'id': rule_id(control['id']), 'selected': 'true', 'severity': control['severity']})
    _text(rule, 'title', control['title'])
    _text(rule, 'description', control['check'])
    for ref in control['references']['book'] + control['references']['stig']:
        _text(rule, 'reference', ref)
    _text(rule, 'rationale', control['rationale'])
    for ident in stig_idents(control):
        _text(rule, 'ident', ident, {'system': STIG_SYSTEM})
    _text(rule, 'fixtext', control['fix'])


def unknown_controls(report: dict) -> list:
    """Rule sources for the findings whose control this catalogue does not have (a merged report of an older or
    newer collection): their id, title, severity and fix as the findings give them, the first finding of each id."""
    known = {control['id'] for control in CONTROLS}
    found = {}
    for host in report['hosts']:
        for finding in host['findings']:
            if finding['id'] not in known and finding['id'] not in found:
                found[finding['id']] = {
                    'id': finding['id'], 'title': finding['title'] or finding['id'], 'severity': finding['severity'] or 'unknown',
                    'check': 'Not in the catalogue of this collection: the finding\'s own text.', 'rationale': '',
                    'fix': finding['fix'], 'references': {'book': list(finding['references']), 'stig': []}}
    return [found[key] for key in sorted(found)]


def benchmark(version: str, others: list = ()) -> ET.Element:
    """The catalogue as a Benchmark: a Group per family, a Rule per control, one Profile selecting them all; the
    controls ``others`` (see unknown_controls) in a Group of their own."""
    root = ET.Element(_x('Benchmark'), {'id': BENCHMARK_ID, 'resolved': 'true', 'style': 'SCAP_1.2',
                                        '{http://www.w3.org/XML/1998/namespace}lang': 'en'})
    _text(root, 'status', 'draft')
    _text(root, 'title', 'mailsec.sendmail baseline')
    _text(root, 'description', 'How sendmail gives up root, and the ownership and modes of its binaries, configuration, '
                               'queues and the files it reads: the controls the mailsec.sendmail collection audits and '
                               'hardens.')
    ET.SubElement(root, _x('platform'), {'idref': PLATFORM})
    _text(root, 'version', version)
    metadata = ET.SubElement(root, _x('metadata'))
    for tag in ('creator', 'publisher'):
        ET.SubElement(metadata, '{%s}%s' % (DC, tag)).text = 'mailsec.sendmail developers'
    ET.SubElement(root, _x('model'), {'system': SCORING})
    profile = ET.SubElement(root, _x('Profile'), {'id': PROFILE_ID})
    _text(profile, 'title', 'mailsec.sendmail baseline, every control')
    _text(profile, 'description', 'Every control of the catalogue, with the expected values of the host\'s OS family.')
    for control in list(CONTROLS) + list(others):
        ET.SubElement(profile, _x('select'), {'idref': rule_id(control['id']), 'selected': 'true'})
    groups = [(family, FAMILY_TITLES[family], [control for control in CONTROLS if control['family'] == family])
              for family in FAMILIES] + [('other', 'Controls this collection does not know, as the report gives them', others)]
    for family, title, members in groups:
        if not members:
            continue
        group = ET.SubElement(root, _x('Group'), {'id': group_id(family), 'selected': 'true'})
        _text(group, 'title', title)
        for control in members:
            _rule(group, control)
    return root


def benchmark_text(version: str) -> str:
    """The Benchmark alone, as the collection documents it (docs/xccdf-benchmark.xml)."""
    return _document(benchmark(version))


def _document(root: ET.Element) -> str:
    indent_xml(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding='unicode') + '\n'


def result_ids(report: dict) -> dict:
    """Host name to its TestResult id: the name with what an id cannot hold made '-', unique within the report."""
    ids, taken = {}, set()
    for host in report['hosts']:
        base = 'xccdf_%s_testresult_%s' % (NAMESPACE, _NOT_NCNAME.sub('-', host['host']))
        name, number = base, 1
        while name in taken:
            number += 1
            name = '%s-%d' % (base, number)
        taken.add(name)
        ids[host['host']] = name
    return ids


def host_results(report: dict, host: dict) -> list:
    """(control id, XCCDF result, finding or None) for every control of the catalogue and any other the host has."""
    findings = {item['id']: item for item in host['findings']}
    ids = [control['id'] for control in list(CONTROLS) + unknown_controls(report)]
    rows = []
    for control_id in ids:
        finding = findings.get(control_id)
        if not host['reachable']:
            rows.append((control_id, 'error', None))
        elif finding is not None:
            rows.append((control_id, _RESULT[finding['status']], finding))
        else:  # left out by the audit's selection, or not in the catalogue the audit ran with
            rows.append((control_id, 'notselected', None))
    return rows


def _score(rows: list) -> tuple:
    """The flat model: one point a rule that passed, out of those judged pass, fail or error."""
    judged = [result for _id, result, _finding in rows if result in ('pass', 'fail', 'error')]
    return judged.count('pass'), len(judged)


def _message(finding: dict, changes: dict) -> str:
    parts = [finding_facts(finding)]
    waiver = finding['waiver'] if finding['status'] == 'waived' else None
    if waiver:
        label = waiver_label(finding)
        parts.insert(0, 'waived%s: %s%s; the control fails' % (
            ' (%s)' % label if label else '', waiver.get('reason') or '',
            ' (expires %s)' % waiver['expires'] if waiver.get('expires') else ''))
    for kind, words in (('new', 'new since the last audit'), ('still_open', 'still open since the last audit')):
        if finding['id'] in changes.get(kind, ()):
            parts.append(words)
    return '; '.join(parts)


def test_result(report: dict, host: dict, result_id: str, address: str | None = None) -> ET.Element:
    """One host's TestResult: target, address, facts, times, a rule-result per control, waivers as overrides, score."""
    times = host.get('audited') or {}
    start = times.get('start') or report['generated_at']
    end = times.get('end') or report['generated_at']
    attrs = {'id': result_id, 'start-time': start, 'end-time': end, 'version': report['collection_version'],
             'test-system': TEST_SYSTEM % (_NOT_CPE.sub('_', report['collection_version']) or '-')}
    node = ET.Element(_x('TestResult'), attrs)
    ET.SubElement(node, _x('benchmark'), {'href': '#' + BENCHMARK_ID, 'id': BENCHMARK_ID})
    # OpenSCAP 1.3 reads no TestResult remark: what a remark would say is in the title and the facts.
    _text(node, 'title', 'sendmail audit of %s%s' % (host['host'], '' if host['reachable'] else ': not audited: %s' % host['msg']))
    ET.SubElement(node, _x('profile'), {'idref': PROFILE_ID})
    _text(node, 'target', host['host'])
    if address or host.get('address'):
        _text(node, 'target-address', address or host['address'])
    facts = ET.SubElement(node, _x('target-facts'))
    _text(facts, 'fact', host['verdict'], {'name': FACT + 'verdict', 'type': 'string'})
    for name, key, kind in _FACTS:
        value = host['sendmail'].get(key)
        if value is not None and value != '':
            _text(facts, 'fact', str(value).lower() if kind == 'boolean' else value, {'name': FACT + name, 'type': kind})
    merged = report.get('merged')
    if merged and merged['kept'].get(host['host']):
        _text(facts, 'fact', merged['kept'][host['host']], {'name': FACT + 'merged-from', 'type': 'string'})
    if report.get('delta'):
        _text(facts, 'fact', report['delta']['compared_with']['generated_at'], {'name': FACT + 'compared-with', 'type': 'string'})
    changes = host_delta(report, host['host'])
    rows = host_results(report, host)
    for control_id, result, finding in rows:
        attrs = {'idref': rule_id(control_id), 'time': end}
        if finding is not None:
            attrs['severity'] = finding['severity']
        rule = ET.SubElement(node, _x('rule-result'), attrs)
        _text(rule, 'result', result)
        if finding is not None and finding['status'] in ('fail', 'error', 'waived'):
            _text(rule, 'message', _message(finding, changes), {'severity': 'error' if finding['status'] == 'error' else 'info'})
        elif not host['reachable']:
            _text(rule, 'message', 'not audited: %s' % host['msg'], {'severity': 'error'})
    passed, judged = _score(rows)
    _text(node, 'score', passed, {'system': SCORING, 'maximum': str(judged)})
    return node


def render_xccdf(report: dict) -> str:
    """xccdf-results.xml: the Benchmark with one TestResult per host."""
    root = benchmark(report['collection_version'], unknown_controls(report))
    ids = result_ids(report)
    for host in report['hosts']:
        root.append(test_result(report, host, ids[host['host']]))
    return _document(root)


def _data_stream(version: str, others: list) -> ET.Element:
    """The source data stream the ARF's report request holds: the Benchmark as its one checklist."""
    component = 'scap_%s_comp_benchmark' % NAMESPACE
    collection = ET.Element('{%s}data-stream-collection' % DS, {
        'id': 'scap_%s_collection_baseline' % NAMESPACE, 'schematron-version': '1.2'})
    stream = ET.SubElement(collection, '{%s}data-stream' % DS, {
        'id': 'scap_%s_datastream_baseline' % NAMESPACE, 'scap-version': '1.2', 'use-case': 'CONFIGURATION',
        'timestamp': '1970-01-01T00:00:00'})
    checklists = ET.SubElement(stream, '{%s}checklists' % DS)
    ET.SubElement(checklists, '{%s}component-ref' % DS, {
        'id': 'scap_%s_cref_benchmark' % NAMESPACE, '{%s}href' % XLINK: '#' + component})
    holder = ET.SubElement(collection, '{%s}component' % DS, {'id': component, 'timestamp': '1970-01-01T00:00:00'})
    holder.append(benchmark(version, others))
    return collection


def _asset(parent, host: dict) -> None:
    """The host as an Asset Identification computing device: its address, and its name where the schema's patterns
    take them (an inventory name may be anything; an ansible_host may be a DNS name)."""
    device = ET.SubElement(parent, '{%s}computing-device' % AI)
    address = host.get('address') or ''
    if _IPV4.fullmatch(address) or ':' in address:
        connections = ET.SubElement(device, '{%s}connections' % AI)
        ip = ET.SubElement(ET.SubElement(connections, '{%s}connection' % AI), '{%s}ip-address' % AI)
        ET.SubElement(ip, '{%s}%s' % (AI, 'ip-v6' if ':' in address else 'ip-v4')).text = address
    elif _HOST_NAME.fullmatch(address) and '.' in address:
        ET.SubElement(device, '{%s}fqdn' % AI).text = address
    if _HOST_NAME.fullmatch(host['host']):
        ET.SubElement(device, '{%s}hostname' % AI).text = host['host']


def render_arf(report: dict) -> str:
    """arf.xml: the audit as an ARF 1.1 report collection (the Benchmark requested, an asset and a report per host)."""
    root = ET.Element('{%s}asset-report-collection' % ARF)
    relations = ET.SubElement(root, '{%s}relationships' % CORE)
    requests = ET.SubElement(root, '{%s}report-requests' % ARF)
    request = ET.SubElement(requests, '{%s}report-request' % ARF, {'id': 'request-baseline'})
    ET.SubElement(request, '{%s}content' % ARF).append(_data_stream(report['collection_version'], unknown_controls(report)))
    assets = ET.SubElement(root, '{%s}assets' % ARF)
    reports = ET.SubElement(root, '{%s}reports' % ARF)
    ids = result_ids(report)
    for number, host in enumerate(report['hosts']):
        asset_id, report_id = 'asset-%d' % number, 'report-%d' % number
        _asset(ET.SubElement(assets, '{%s}asset' % ARF, {'id': asset_id}), host)
        holder = ET.SubElement(ET.SubElement(reports, '{%s}report' % ARF, {'id': report_id}), '{%s}content' % ARF)
        holder.append(test_result(report, host, ids[host['host']]))
        for kind, target in (('createdFor', 'request-baseline'), ('isAbout', asset_id)):
            relation = ET.SubElement(relations, '{%s}relationship' % CORE, {'type': 'arfvocab:' + kind, 'subject': report_id})
            ET.SubElement(relation, '{%s}ref' % CORE).text = target
    text = _document(root)
    # The relationship types are QNames in the ARF vocabulary's namespace: declared where they are used.
    return text.replace('<core:relationships>', '<core:relationships xmlns:arfvocab="%s">' % ARF_RELATIONS, 1)
