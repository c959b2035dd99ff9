# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""The report writer's work apart from writing: the results of a play's hosts, the report, the files to write.

The action plugin ``sendmail_audit_report`` (on the controller) and the module of the same name share it.
"""

from __future__ import annotations

import datetime
import json
import os

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import (
    FORMATS, ReportError, build_report, failing_ids, host_line, render, summary, utc_time,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import compare
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_merge import merge, newest

NOT_AUDITED = 'the host failed or was unreachable before the audit ran'
# The options of sendmail_audit_report, for the module and the action plugin alike.
ARGUMENT_SPEC = {
    'results': {'type': 'list', 'elements': 'dict'},
    'result_var': {'type': 'str'},
    'dest': {'type': 'path', 'required': True},
    'formats': {'type': 'list', 'elements': 'str', 'choices': list(FORMATS), 'default': list(FORMATS)},
    'baseline': {'type': 'str', 'default': 'mailsec.sendmail'},
    'generated_at': {'type': 'str'},
    'collection_version': {'type': 'str'},
    'compare_with': {'type': 'path'},
    'merge': {'type': 'list', 'elements': 'path'},
}
# Where the results come from: the play's registered results, given results, or earlier reports to merge.
SOURCES = ('results', 'result_var', 'merge')


def utc_now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


def read_bytes(path: str) -> bytes | None:
    """Content of a regular file, or None when there is none (or it is something else)."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except OSError:
        return None


def previous_summary(path: str) -> dict:
    """The summary of the report.json already in place; empty when there is none or it cannot be read."""
    data = read_bytes(path)
    if data is None:
        return {}
    try:
        return summary(json.loads(data.decode('utf-8')))
    except (ValueError, KeyError, TypeError):
        return {}


def play_results(all_hosts: list, active_hosts: list, result_of, address_of=lambda name: None) -> list:
    """One entry per host of the play, sorted by name, from each host's registered sendmail_drift result.

    ``result_of(name)`` gives the registered result (None when the host has none), ``address_of(name)`` the address
    Ansible reaches it at (None when unknown). A host that left the
    play (failed or unreachable before the audit) or whose audit returned no findings is reported as
    not audited, with its message.
    """
    entries = []
    active = set(active_hosts)
    for name in sorted(all_hosts):
        result = result_of(name) or {}
        address = address_of(name)
        where = {'address': address} if address else {}
        if name in active and 'findings' in result:
            entries.append(dict(where, host=name, reachable=True, sendmail=result.get('sendmail') or {},
                                findings=result['findings'], counts=result.get('counts') or {},
                                drift=bool(result.get('drift')), excluded=result.get('excluded') or [],
                                audited=result.get('audited'), package=result.get('package')))
        else:
            entries.append(dict(where, host=name, reachable=False, msg=result.get('msg') or NOT_AUDITED))
    return entries


def read_report(option: str, path: str) -> dict:
    """An earlier audit's report.json named by ``option`` (compare_with, merge); ReportError naming the file when
    it is not one."""
    data = read_bytes(path)
    if data is None:
        raise ReportError('%s %s cannot be read; give the report.json of an earlier audit' % (option, path))
    try:
        report = json.loads(data.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ReportError('%s %s is not JSON (%s)' % (option, path, exc)) from exc
    if not isinstance(report, dict) or not isinstance(report.get('hosts'), list):
        raise ReportError('%s %s is not an audit report.json (no list of hosts)' % (option, path))
    return report


def merged_results(paths: list) -> tuple:
    """(host results, ``merged`` section, newest generated_at) of the report.json files ``paths``."""
    reports = [(path, read_report('merge', path)) for path in paths]
    results, merged = merge(reports)
    return results, merged, newest(reports)


def report_inputs(params: dict, play=None) -> tuple:
    """(results, merged, generated_at) from the options: ``merge`` reads the reports named, ``results`` are taken as
    given, else ``play()`` gives the play's results (result_var). A merged report carries its newest report's time."""
    if params.get('merge'):
        results, merged, stamp = merged_results(params['merge'])
        return results, merged, params.get('generated_at') or stamp
    if params.get('results') is not None:
        return params['results'], None, params.get('generated_at')
    if play is None:
        raise ReportError('result_var needs the controller (the action plugin); give results or merge instead')
    return play(), None, params.get('generated_at')


def prepare(results: list, dest: str, formats: list, baseline: str, generated_at: str | None,
            collection_version: str | None, compare_with: str | None = None, merged: dict | None = None) -> tuple:
    """(result, contents): the module's result without ``changed`` and the bytes of each file by path.

    With ``compare_with`` (an earlier report.json) every format says what changed since then; with
    ``merged`` (see _report_merge) every format says which reports the hosts came from.
    Raises ReportError when the results break sendmail_drift's contract or the earlier report cannot be read.
    """
    stamp = generated_at or utc_now()
    if not utc_time(stamp):
        raise ReportError('generated_at %r is not a UTC time as YYYY-MM-DDTHH:MM:SSZ (the form XCCDF and OSCAL take)' % stamp)
    previous = read_report('compare_with', compare_with) if compare_with else None
    report = build_report(results, stamp, collection_version, baseline)
    if merged is not None:
        report['merged'] = merged
    if previous is not None:
        compare(report, previous, compare_with)
    texts = render(report, formats)
    paths = {name: os.path.join(dest, FORMATS[name]) for name in FORMATS if name in formats}
    contents = {paths[name]: texts[FORMATS[name]].encode('utf-8') for name in paths}
    written = [path for path, data in contents.items() if read_bytes(path) != data]
    result = {
        'dest': dest, 'files': paths, 'written': written, 'drift': report['drift'], 'totals': report['totals'],
        'hosts': [{'host': host['host'], 'reachable': host['reachable'], 'msg': host['msg'], 'drift': host['drift'],
                   'verdict': host['verdict'], 'counts': host['counts'], 'failing': failing_ids(host),
                   'excluded': [item['id'] for item in host['excluded']], 'waived': host['waived'], 'summary': host_line(host)}
                  for host in report['hosts']],
        'excluded': report['excluded'], 'waived': report['waived'],
        '_summary': summary(report),
    }
    if previous is not None:
        result['delta'] = {key: report['delta'][key] for key in ('new', 'fixed', 'still_open')}
    if merged is not None:
        result['merged'] = {key: merged[key] for key in ('sources', 'duplicates')}
    return result, contents


def diff_of(result: dict) -> dict:
    json_path = os.path.join(result['dest'], FORMATS['json'])
    return {'before': previous_summary(json_path), 'after': result['_summary'],
            'before_header': '%s (summary)' % json_path, 'after_header': '%s (summary)' % json_path}
