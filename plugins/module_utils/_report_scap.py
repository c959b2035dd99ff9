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
from ansible_collections.mailsec.sendmail.plugins.module_utils._report import (
    DNS_NAME, address_kind, clean, finding_facts, indent_xml, unknown_controls, utc_time, waiver_label,
)
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
# DISA's legacy STIG ids (GEN… and V-…), as DISA's own SCAP content names that system.
STIG_SYSTEM = 'http://cyber.mil/legacy'
_STIG_IDS = re.compile(r'\b(GEN\d+|V-\d+)\b')
_RESULT = {'pass': 'pass', 'fail': 'fail', 'error': 'error', 'not_applicable': 'notapplicable', 'waived': 'informational'}
SEVERITIES = ('unknown', 'info', 'low', 'medium', 'high')
# What an id (an NCName; a CPE component too) cannot hold.
_NOT_ID = re.compile(r'[^A-Za-z0-9._-]')
FACT = 'urn:%s:fact:' % NAMESPACE
# The facts of sendmail a host result holds, as XCCDF target facts.
_FACTS = (('sendmail:installed', 'installed', 'boolean'), ('sendmail:version', 'version', 'string'),
          ('sendmail:drop-method', 'drop_method', 'string'), ('sendmail:program', 'program', 'string'),
          ('sendmail:reason', 'reason', 'string'))
_CHANGES = (('new', 'new since the last audit'), ('still_open', 'still open since the last audit'),
            ('fixed', 'fixed since the last audit'))


def _x(tag: str) -> str:
    return '{%s}%s' % (XCCDF, tag)


def _text(parent, tag: str, text, attrs: dict | None = None):
    node = ET.SubElement(parent, _x(tag), attrs or {})
    node.text = '' if text is None else str(text)
    return node


def rule_id(control_id: str) -> str:
    return 'xccdf_%s_rule_%s' % (NAMESPACE, _NOT_ID.sub('-', control_id))


def group_id(family: str) -> str:
    return 'xccdf_%s_group_%s' % (NAMESPACE, family)


def xccdf_severity(value) -> str:
    """A severity XCCDF knows: ours are among them; a merged report's other word is 'unknown'."""
    return value if value in SEVERITIES else 'unknown'


def stig_idents(control: dict) -> list:
    """The STIG items of a control's references, as XCCDF ident values."""
    return [found for ref in control['references']['stig'] for found in _STIG_IDS.findall(ref)]


def _rule(parent, control: dict) -> None:
    attrs = {'id': rule_id(control['id']), 'selected': 'true', 'severity': xccdf_severity(control['severity'])}
    rule = ET.SubElement(parent, _x('Rule'), attrs)
    _text(rule, 'title', control['title'])
    _text(rule, 'description', control['check'])
    for ref in control['references']['book'] + control['references']['stig']:
        _text(rule, 'reference', ref)
    _text(rule, 'rationale', control['rationale'])
    for ident in stig_idents(control):
        _text(rule, 'ident', ident, {'system': STIG_SYSTEM})
    _text(rule, 'fixtext', control['fix'])


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
        base = 'xccdf_%s_testresult_%s' % (NAMESPACE, _NOT_ID.sub('-', host['host']))
        name, number = base, 1
        while name in taken:
            number += 1
            name = '%s-%d' % (base, number)
        taken.add(name)
        ids[host['host']] = name
    return ids


def host_results(host: dict, control_ids: list) -> list:
    """(control id, XCCDF result, finding or None) for each of ``control_ids`` (the Benchmark's, in its order)."""
    findings = {item['id']: item for item in host['findings']}
    rows = []
    for control_id in control_ids:
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


def _message(finding: dict | None, changes: list) -> str:
    parts = [] if finding is None else [finding_facts(finding)]
    waiver = finding['waiver'] if finding is not None and finding['status'] == 'waived' else None
    if waiver:
        label = waiver_label(finding)
        parts.insert(0, 'waived%s: %s%s; the control fails' % (
            ' (%s)' % label if label else '', waiver.get('reason') or '',
            ' (expires %s)' % waiver['expires'] if waiver.get('expires') else ''))
    return '; '.join(parts + changes)


def _facts(parent, report: dict, host: dict) -> None:
    facts = ET.SubElement(parent, _x('target-facts'))
    values = [('verdict', host['verdict'], 'string')]
    values += [(name, str(host['sendmail'].get(key)).lower() if kind == 'boolean' else host['sendmail'].get(key), kind)
               for name, key, kind in _FACTS if host['sendmail'].get(key) not in (None, '')]
    merged = report.get('merged')
    if merged and merged['kept'].get(host['host']):
        values.append(('merged-from', clean(merged['kept'][host['host']]), 'string'))
    compared = utc_time((report.get('delta') or {}).get('compared_with', {}).get('generated_at'))
    if compared:
        values.append(('compared-with', compared, 'string'))
    for name, value, kind in values:
        _text(facts, 'fact', value, {'name': FACT + name, 'type': kind})


def host_test_result(report: dict, host: dict, result_id: str, control_ids: list) -> ET.Element:
    """One host's TestResult: target, address, facts, times, a rule-result per control of ``control_ids``, score."""
    times = host.get('audited') or {}
    start = times.get('start') or report['generated_at']
    end = times.get('end') or report['generated_at']
    attrs = {'id': result_id, 'start-time': start, 'end-time': end, 'version': report['collection_version'],
             'test-system': TEST_SYSTEM % (_NOT_ID.sub('_', report['collection_version']) or '-')}
    node = ET.Element(_x('TestResult'), attrs)
    ET.SubElement(node, _x('benchmark'), {'href': '#' + BENCHMARK_ID, 'id': BENCHMARK_ID})
    # OpenSCAP 1.3 reads no TestResult remark: what a remark would say is in the title and the facts.
    _text(node, 'title', 'sendmail audit of %s%s' % (host['host'], '' if host['reachable'] else ': not audited: %s' % host['msg']))
    ET.SubElement(node, _x('profile'), {'idref': PROFILE_ID})
    _text(node, 'target', host['host'])
    kind, address = address_kind(host.get('address'))
    if kind:
        _text(node, 'target-address', address)
    _facts(node, report, host)
    changes = host_delta(report, host['host'])
    rows = host_results(host, control_ids)
    for control_id, result, finding in rows:
        attrs = {'idref': rule_id(control_id), 'time': end}
        if finding is not None:
            attrs['severity'] = xccdf_severity(finding['severity'])
        rule = ET.SubElement(node, _x('rule-result'), attrs)
        _text(rule, 'result', result)
        said = [words for key, words in _CHANGES if control_id in changes[key]]
        if not host['reachable']:
            _text(rule, 'message', 'not audited: %s' % host['msg'], {'severity': 'error'})
        elif finding is not None and (finding['status'] in ('fail', 'error', 'waived') or said):
            _text(rule, 'message', _message(finding if finding['status'] != 'pass' else None, said),
                  {'severity': 'error' if finding['status'] == 'error' else 'info'})
    passed, judged = _score(rows)
    _text(node, 'score', passed, {'system': SCORING, 'maximum': str(judged)})
    return node


def _control_ids(others: list) -> list:
    return [control['id'] for control in list(CONTROLS) + others]


def render_xccdf(report: dict) -> str:
    """xccdf-results.xml: the Benchmark with one TestResult per host."""
    others = unknown_controls(report, rule_id)
    root = benchmark(report['collection_version'], others)
    ids = result_ids(report)
    for host in report['hosts']:
        root.append(host_test_result(report, host, ids[host['host']], _control_ids(others)))
    return _document(root)


def _data_stream(report: dict, others: list) -> ET.Element:
    """The source data stream the ARF's report request holds: the Benchmark as its one checklist."""
    component = 'scap_%s_comp_benchmark' % NAMESPACE
    stamp = report['generated_at']
    collection = ET.Element('{%s}data-stream-collection' % DS, {
        'id': 'scap_%s_collection_baseline' % NAMESPACE, 'schematron-version': '1.2'})
    stream = ET.SubElement(collection, '{%s}data-stream' % DS, {
        'id': 'scap_%s_datastream_baseline' % NAMESPACE, 'scap-version': '1.2', 'use-case': 'CONFIGURATION',
        'timestamp': stamp})
    checklists = ET.SubElement(stream, '{%s}checklists' % DS)
    ET.SubElement(checklists, '{%s}component-ref' % DS, {
        'id': 'scap_%s_cref_benchmark' % NAMESPACE, '{%s}href' % XLINK: '#' + component})
    holder = ET.SubElement(collection, '{%s}component' % DS, {'id': component, 'timestamp': stamp})
    holder.append(benchmark(report['collection_version'], others))
    return collection


def _asset(parent, host: dict) -> None:
    """The host as an Asset Identification computing device: its address, and its name where the schema's patterns
    take them (an inventory name may be anything; an ansible_host may be a DNS name)."""
    device = ET.SubElement(parent, '{%s}computing-device' % AI)
    kind, address = address_kind(host.get('address'))
    if kind in ('ipv4', 'ipv6'):
        connections = ET.SubElement(device, '{%s}connections' % AI)
        ip = ET.SubElement(ET.SubElement(connections, '{%s}connection' % AI), '{%s}ip-address' % AI)
        ET.SubElement(ip, '{%s}%s' % (AI, 'ip-v4' if kind == 'ipv4' else 'ip-v6')).text = address
    elif kind == 'fqdn' and DNS_NAME.fullmatch(address):
        ET.SubElement(device, '{%s}fqdn' % AI).text = address
    if DNS_NAME.fullmatch(host['host']):
        ET.SubElement(device, '{%s}hostname' % AI).text = host['host']


def render_arf(report: dict) -> str:
    """arf.xml: the audit as an ARF 1.1 report collection (the Benchmark requested, an asset and a report per host).

    A report of no host has no relationships or assets, and an empty list of reports, which ARF does not allow:
    there is nothing to report then."""
    others = unknown_controls(report, rule_id)
    root = ET.Element('{%s}asset-report-collection' % ARF)
    relations = ET.SubElement(root, '{%s}relationships' % CORE)
    # The relationship types are QNames in the ARF vocabulary's namespace, declared here by hand: ElementTree
    # declares only the namespaces of names, not of values.
    relations.set('xmlns:arfvocab', ARF_RELATIONS)
    requests = ET.SubElement(root, '{%s}report-requests' % ARF)
    request = ET.SubElement(requests, '{%s}report-request' % ARF, {'id': 'request-baseline'})
    ET.SubElement(request, '{%s}content' % ARF).append(_data_stream(report, others))
    assets = ET.SubElement(root, '{%s}assets' % ARF)
    reports = ET.SubElement(root, '{%s}reports' % ARF)
    ids = result_ids(report)
    for number, host in enumerate(report['hosts']):
        asset_id, report_id = 'asset-%d' % number, 'report-%d' % number
        _asset(ET.SubElement(assets, '{%s}asset' % ARF, {'id': asset_id}), host)
        holder = ET.SubElement(ET.SubElement(reports, '{%s}report' % ARF, {'id': report_id}), '{%s}content' % ARF)
        holder.append(host_test_result(report, host, ids[host['host']], _control_ids(others)))
        for kind, target in (('createdFor', 'request-baseline'), ('isAbout', asset_id)):
            relation = ET.SubElement(relations, '{%s}relationship' % CORE, {'type': 'arfvocab:' + kind, 'subject': report_id})
            ET.SubElement(relation, '{%s}ref' % CORE).text = target
    if not report['hosts']:
        root.remove(relations)
        root.remove(assets)
    return _document(root)
