# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""Several audit reports made one: the report.json files of job slices (AWX splits an inventory into
slices and runs each as a job of its own, each writing its own report) merged into the fleet's.

Each host is taken once. Where a host is in more than one report, the newest report's entry wins
(``generated_at``, then the later file given), and the merged report lists each such host with the
report kept and those left out. Totals are counted again from the hosts kept, and verdicts judged again:
a report written before hosts without sendmail had a verdict of their own merges like any other.
"""

from __future__ import annotations

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import ReportError, normalise_host


def merge(reports: list) -> tuple:
    """(host results for build_report, the report's ``merged`` section) of ``reports``, a list of
    (path, report) in the order given."""
    if not reports:
        raise ReportError('merge: no report.json given')
    order = sorted(range(len(reports)), key=lambda index: (str(reports[index][1].get('generated_at') or ''), index))
    chosen, seen_in = {}, {}
    for index in order:  # oldest first: a newer report's entry replaces an older one
        path, report = reports[index]
        for host in report['hosts']:
            name = host.get('host') if isinstance(host, dict) else None
            if not name:
                raise ReportError('merge: %s has a host entry without a name' % path)
            chosen[name] = (path, report.get('generated_at'), host)
            seen_in.setdefault(name, []).append(path)
    duplicates = [{'host': name, 'kept_from': chosen[name][0], 'generated_at': chosen[name][1],
                   'left_out': [path for path in seen_in[name] if path != chosen[name][0]]}
                  for name in sorted(seen_in) if len(seen_in[name]) > 1]
    sources = [{'path': path, 'generated_at': report.get('generated_at'), 'hosts': len(report['hosts']),
                'hosts_no_sendmail': sum(1 for host in report['hosts'] if normalise_host(host)['verdict'] == 'no_sendmail')}
               for path, report in reports]
    results = [chosen[name][2] for name in sorted(chosen)]
    return results, {'sources': sources, 'duplicates': duplicates, 'kept': {name: chosen[name][0] for name in sorted(chosen)}}


def newest(reports: list) -> str | None:
    """The newest ``generated_at`` of the reports: the merged report's own."""
    stamps = [str(report.get('generated_at')) for _path, report in reports if report.get('generated_at')]
    return max(stamps) if stamps else None
