# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""What changed since the last audit: a report compared with an earlier report.json.

Per host and control: drift that is new, drift that was fixed, and drift still open with the date
it was first reported (``open_since``, carried forward from report to report). Pure functions.
"""

from __future__ import annotations

import datetime

from ansible_collections.mailsec.sendmail.plugins.module_utils._judge import DRIFT_STATUSES as DRIFT


def _drifting(host: dict | None) -> dict:
    """Control id -> finding of the host's drift; empty for a host not audited (nothing is known of it)."""
    if not host or not host.get('reachable', True):
        return {}
    return {item['id']: item for item in host.get('findings') or [] if item.get('status') in DRIFT}


def days_between(since: str | None, until: str | None) -> int | None:
    """Whole days from one report time (YYYY-MM-DDTHH:MM:SSZ, or a date) to another; None when unreadable."""
    try:
        start = datetime.date.fromisoformat(str(since)[:10])
        end = datetime.date.fromisoformat(str(until)[:10])
    except (TypeError, ValueError):
        return None
    return (end - start).days


def compare(report: dict, previous: dict, source: str) -> dict:
    """Annotate ``report`` (in place) with what changed since ``previous``; returns the delta.

    Every finding still drifting gets ``open_since``: the previous report's ``open_since`` for it,
    else the previous report's time. The delta (``report['delta']``) lists ``new``, ``fixed`` and
    ``still_open`` entries (host, id, title, open_since, open_days), and the hosts not audited in one
    of the two runs (``not_compared``), whose drift cannot be told.
    """
    before_at = previous.get('generated_at')
    before = {host.get('host'): host for host in previous.get('hosts') or [] if isinstance(host, dict)}
    new, fixed, still, not_compared = [], [], [], []
    for host in report['hosts']:
        earlier = before.get(host['host'])
        if not host['reachable'] or (earlier is not None and not earlier.get('reachable', True)):
            not_compared.append(host['host'])
            continue
        then = _drifting(earlier)
        for finding in host['findings']:
            if finding['status'] not in DRIFT:
                continue
            entry = {'host': host['host'], 'id': finding['id'], 'title': finding['title']}
            if finding['id'] in then:
                finding['open_since'] = then[finding['id']].get('open_since') or before_at
                still.append(dict(entry, open_since=finding['open_since'],
                                  open_days=days_between(finding['open_since'], report['generated_at'])))
            else:
                finding['open_since'] = report['generated_at']
                new.append(entry)
        now = {item['id'] for item in host['findings'] if item['status'] in DRIFT}
        for control_id, finding in sorted(then.items()):
            if control_id not in now:
                fixed.append({'host': host['host'], 'id': control_id, 'title': finding.get('title', ''),
                              'open_since': finding.get('open_since') or before_at})
    gone = sorted(name for name in before if name not in {host['host'] for host in report['hosts']})
    report['delta'] = {'compared_with': {'path': source, 'generated_at': before_at}, 'new': new, 'fixed': fixed,
                       'still_open': still, 'not_compared': not_compared, 'hosts_gone': gone}
    return report['delta']


def host_delta(report: dict, name: str) -> dict:
    """The host's share of the delta: its new, fixed and still open control ids."""
    delta = report.get('delta') or {}
    return {kind: [item['id'] for item in delta.get(kind) or [] if item['host'] == name] for kind in ('new', 'fixed', 'still_open')}
