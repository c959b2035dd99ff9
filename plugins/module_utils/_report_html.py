# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Private to the mailsec.sendmail collection: not for use by other collections,
# its interface may change without notice.
"""report.html: one self-contained page a 200-host fleet can read.

It opens with a controls x hosts matrix, hosts grouped by the set of controls they fail, with
filters by control, family and severity and a search by host (a few lines of plain JavaScript,
allowed by its hash in the page's Content-Security-Policy, and nothing fetched from anywhere);
then what changed since the last audit, when the report was compared with one; then each host's
details, collapsed until opened.
"""

from __future__ import annotations

import base64
import hashlib
import html

from ansible_collections.mailsec.sendmail.plugins.module_utils._report import (
    SEVERITIES, _by_severity, _named_waivers, _select, clean, excluded_text, failing_ids, left_out_hosts, merged_text,
    no_sendmail_text, plural, since_text, verdict_text, waiver_label,
)
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_delta import host_delta

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
.verdict.warn{background:var(--amber);color:#fff}
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
.filters{display:flex;gap:14px;flex-wrap:wrap;align-items:center;margin:0 0 10px;font-size:13px;color:var(--muted)}
.filters select,.filters input{font:inherit;padding:3px 6px;border:1px solid var(--line);border-radius:4px;background:#fff;color:var(--ink)}
.scroll{overflow-x:auto}
table.matrix{width:auto;font-size:12px}
table.matrix th,table.matrix td{padding:3px 5px;text-align:center;border-bottom:1px solid var(--line)}
table.matrix thead th{vertical-align:bottom;text-transform:none;letter-spacing:0}
table.matrix thead th.c{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;font-family:ui-monospace,Menlo,Consolas,monospace}
table.matrix th.h{text-align:left;white-space:nowrap;font-weight:600;background:var(--card);text-transform:none;letter-spacing:0}
table.matrix tr.g td{text-align:left;background:#eef1f5;font-weight:600;color:var(--ink)}
.s-pass{background:var(--green-bg);color:var(--green)}.s-fail{background:var(--red);color:#fff;font-weight:600}
.s-error{background:#7a271a;color:#fff;font-weight:600}.s-waived{background:var(--amber-bg);color:var(--amber)}
.s-na,.s-none{background:var(--grey-bg);color:#9aa5b1}.s-gone{background:#fff;color:#9aa5b1}
td.nw{outline:2px solid #f79009;outline-offset:-2px}
.hide{display:none}
details.host>summary{display:flex;gap:12px;align-items:center;flex-wrap:wrap}
details.host>summary h2{margin:0;padding:0;border:0;font-size:17px}
details.host>.body{padding:4px 16px 12px}
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


_VERDICT_BADGE = {'not_audited': ('unreachable', 'NOT AUDITED'), 'drift': ('drift', 'DRIFT'), 'no_sendmail': ('na', 'NO SENDMAIL'),
                  'compliant': ('ok', 'COMPLIANT')}


def _host_badge(host: dict) -> str:
    return _badge(*_VERDICT_BADGE[host['verdict']])


def _html_finding(finding: dict, since: str = '') -> str:
    kind, label = _STATUS_BADGE[finding['status']]
    rows = [('Expected', '<code>%s</code>' % _e(finding['expected'])), ('Actual', '<code>%s</code>' % _e(finding['actual']))]
    if since:
        rows.insert(0, ('Since', _e(since)))
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


def _html_host(index: int, host: dict, report: dict) -> str:
    """A host's details, collapsed until opened."""
    counts = host['counts']
    line = ('%s &middot; %d pass &middot; %d fail &middot; %d error &middot; %d waived &middot; %d n/a' % (
        _host_badge(host), counts['pass'], counts['fail'], counts['error'], counts['waived'], counts['not_applicable'])
        if host['reachable'] else _host_badge(host))
    parts = ['<details class="host" id="host-%d">' % index, '<summary><h2>%s</h2>%s</summary>' % (_e(host['host']), line),
             '<div class="body">']
    if not host['reachable']:
        parts.append('<p class="note bad">The audit could not run on this host: %s</p>' % _e(host['msg'] or 'no reason given'))
        parts.append('</div></details>')
        return '\n'.join(parts)
    sendmail = host['sendmail']
    if host['verdict'] == 'no_sendmail':
        parts.append('<p class="note">No sendmail on this host: %s. Its controls do not apply; it is not counted as meeting '
                     'the baseline.</p>' % _e(no_sendmail_text(host).rstrip('.')))
        parts.append('</div></details>')
        return '\n'.join(parts)
    if sendmail.get('seen'):
        parts.append('<p class="note bad">sendmail cannot be audited: %s.</p>' % _e(sendmail['seen']))
    elif sendmail.get('installed') is False:
        parts.append('<p class="facts">sendmail is not installed.</p>')
    elif sendmail:
        parts.append('<p class="facts">sendmail %s &middot; privilege drop method %s &middot; %d controls evaluated</p>' % (
            _e(sendmail.get('version') or 'unknown'), _e(sendmail.get('drop_method') or 'unknown'), host['controls_evaluated']))
        if sendmail.get('found'):
            parts.append('<p class="facts">Found elsewhere than asked: %s.</p>' % _e(sendmail['found']))
    if host['excluded']:
        parts.append('<p class="facts">%s</p>' % _e(excluded_text(host)))
    failing = _by_severity(_select(host, 'fail', 'error'))
    if failing:
        parts.append('<h3>Controls that fail (%d)</h3>' % len(failing))
        parts.extend(_html_finding(finding, since_text(report, finding)) for finding in failing)
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
    parts.append('</div></details>')
    return '\n'.join(part for part in parts if part)


def _tile(value: int, label: str, kind: str) -> str:
    return '<div class="tile %s"><div class="n">%d</div><div class="l">%s</div></div>' % (kind if value else '', value, _e(label))


_SHORT = {'pass': 'P', 'fail': 'F', 'error': 'E', 'waived': 'W', 'not_applicable': '-'}
_STATUS_CLASS = {'pass': 's-pass', 'fail': 's-fail', 'error': 's-error', 'waived': 's-waived', 'not_applicable': 's-na'}

# The filters: hide the columns of the controls not chosen, the rows of the hosts not searched for,
# and the group rows left empty; open a host's details when its name is followed.
_SCRIPT = """(function () {
  var pick = function (id) { return document.getElementById(id); };
  var cols = Array.prototype.slice.call(document.querySelectorAll('#matrix thead th[data-col]'));
  var rows = Array.prototype.slice.call(document.querySelectorAll('#matrix tbody tr'));
  function apply() {
    var control = pick('f-control').value, family = pick('f-family').value, severity = pick('f-severity').value;
    var search = pick('f-host').value.trim().toLowerCase(), hidden = {}, shown = 0, group = null, inGroup = 0;
    cols.forEach(function (th) {
      var d = th.dataset;
      hidden[d.col] = (control && d.control !== control) || (family && d.family !== family) || (severity && d.severity !== severity);
    });
    document.querySelectorAll('#matrix [data-col]').forEach(function (cell) { cell.classList.toggle('hide', !!hidden[cell.dataset.col]); });
    function close() { if (group) { group.classList.toggle('hide', inGroup === 0); } }
    rows.forEach(function (tr) {
      if (tr.classList.contains('g')) { close(); group = tr; inGroup = 0; return; }
      var show = !search || tr.dataset.host.toLowerCase().indexOf(search) >= 0;
      tr.classList.toggle('hide', !show);
      if (show) { inGroup += 1; shown += 1; }
    });
    close();
    pick('f-count').textContent = shown + ' of ' + (rows.length - document.querySelectorAll('#matrix tr.g').length) + ' hosts';
  }
  function open() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === 'DETAILS') { target.open = true; }
  }
  ['f-control', 'f-family', 'f-severity', 'f-host'].forEach(function (id) { pick(id).addEventListener('input', apply); });
  window.addEventListener('hashchange', open);
  apply();
  open();
  document.body.setAttribute('data-ready', 'yes');
}());"""


def _controls(report: dict) -> list:
    """Every control id of the report, in id order, with its title, family and severity."""
    found = {}
    for host in report['hosts']:
        for finding in host['findings']:
            found.setdefault(finding['id'], finding)
    return [found[key] for key in sorted(found)]


# The matrix's groups of hosts that are not grouped by the controls they fail (keys no control id can make).
_APART = {'not_audited': ('~',), 'no_sendmail': ('~none',)}


def _groups(report: dict) -> list:
    """(label, [(index, host)]) of the hosts grouped by the set of controls they fail; most drift first."""
    groups = {}
    for index, host in enumerate(report['hosts']):
        key = _APART.get(host['verdict']) or tuple(failing_ids(host))
        groups.setdefault(key, []).append((index, host))

    def label(key, members):
        count = plural(len(members), 'host')
        if key == _APART['not_audited']:
            return '%s not audited' % count
        if key == _APART['no_sendmail']:
            return '%s without sendmail' % count
        return '%s failing %s' % (count, ', '.join(key)) if key else '%s meeting the baseline' % count

    # Not audited first, the most failing controls next, those meeting the baseline, then those without sendmail.
    last = _APART['no_sendmail']
    order = sorted(groups, key=lambda key: (key == last, key != _APART['not_audited'], -len(key) if key not in (last,) else 0, key))
    return [(label(key, groups[key]), groups[key]) for key in order]


def _option(value: str, text: str = '') -> str:
    return '<option value="%s">%s</option>' % (_e(value), _e(text or value))


def _matrix(report: dict) -> str:
    """The controls x hosts matrix with its filters."""
    controls = _controls(report)
    families = sorted({item['family'] for item in controls})
    severities = [name for name in SEVERITIES if name in {item['severity'] for item in controls}]
    filters = (
        '<div class="filters">'
        '<label>Control <select id="f-control">%s</select></label>'
        '<label>Family <select id="f-family">%s</select></label>'
        '<label>Severity <select id="f-severity">%s</select></label>'
        '<label>Host <input id="f-host" type="search" placeholder="search hosts"></label>'
        '<span id="f-count"></span></div>' % (
            _option('', 'all') + ''.join(_option(item['id'], '%s %s' % (item['id'], item['title'])) for item in controls),
            _option('', 'all') + ''.join(_option(name) for name in families),
            _option('', 'all') + ''.join(_option(name) for name in severities)))
    head = '<tr><th class="h">Host</th>%s<th>Fail</th></tr>' % ''.join(
        '<th class="c" data-col="%d" data-control="%s" data-family="%s" data-severity="%s" title="%s">%s</th>' % (
            col, _e(item['id']), _e(item['family']), _e(item['severity']), _e(item['title']), _e(item['id']))
        for col, item in enumerate(controls))
    rows = []
    for label, members in _groups(report):
        rows.append('<tr class="g"><td colspan="%d">%s</td></tr>' % (len(controls) + 2, _e(label)))
        for index, host in members:
            status = {item['id']: item['status'] for item in host['findings']}
            new = set(host_delta(report, host['host'])['new'])
            cells = []
            for col, item in enumerate(controls):
                value = status.get(item['id'])
                if value is None:
                    cells.append('<td data-col="%d" class="%s"></td>' % (col, 's-gone' if host['reachable'] else 's-none'))
                    continue
                mark = ' nw' if item['id'] in new else ''
                cells.append('<td data-col="%d" class="%s%s" title="%s: %s%s">%s</td>' % (
                    col, _STATUS_CLASS[value], mark, _e(item['id']), _e(value.replace('_', ' ')), ', new since the last audit' if mark else '',
                    _SHORT[value]))
            fails = host['counts']['fail'] + host['counts']['error'] if host['reachable'] else None
            rows.append('<tr data-host="%s"><th class="h"><a href="#host-%d">%s</a></th>%s<td>%s</td></tr>' % (
                _e(host['host']), index, _e(host['host']), ''.join(cells), '' if fails is None else fails))
    return '%s\n<div class="scroll"><table class="matrix" id="matrix">\n<thead>%s</thead>\n<tbody>\n%s\n</tbody>\n</table></div>' % (
        filters, head, '\n'.join(rows))


def _left_out(report: dict) -> str:
    """The section 'Controls left out': those the selection excluded and those waived, with their hosts."""
    if not report.get('excluded') and not report.get('waived'):
        return ''
    parts = ['<h2>Controls left out</h2>']
    columns = (_ID_COLUMN, _TITLE_COLUMN, ('Hosts', lambda item: _e(left_out_hosts(report, item))))
    for title, key in (('Excluded', 'excluded'), ('Waived', 'waived')):
        parts.append(_html_details(title, report.get(key) or [], columns))
    return '\n'.join(part for part in parts if part)


def _delta(report: dict) -> str:
    """The section 'Since the last audit' of a compared report."""
    delta = report.get('delta')
    if not delta:
        return ''
    parts = ['<h2>Since the last audit</h2>', '<p class="facts">Compared with the report of %s (<code>%s</code>).</p>' % (
        _e(delta['compared_with']['generated_at']), _e(delta['compared_with']['path']))]
    for title, key in (('New drift', 'new'), ('Fixed', 'fixed'), ('Still open', 'still_open')):
        items = delta[key]
        columns = [('Host', lambda item: _e(item['host'])), ('Control', lambda item: '<code>%s</code>' % _e(item['id'])),
                   ('Title', lambda item: _e(item['title']))]
        if key != 'new':
            columns.append(('Open since', lambda item: _e(item['open_since'] + (
                ' (%s)' % plural(item['open_days'], 'day') if item.get('open_days') is not None else ''))))
        if items:
            parts.append('<details%s>\n<summary>%s (%d)</summary>\n%s\n</details>' % (
                ' open' if key == 'new' else '', _e(title), len(items), _html_table(items, tuple(columns))))
        else:
            parts.append('<p class="note">%s: none.</p>' % _e(title))
    others = delta['not_compared'] + delta['hosts_gone']
    if others:
        parts.append('<p class="facts">Not compared (not audited in one of the two runs): %s.</p>' % _e(', '.join(others)))
    return '\n'.join(parts)


def render_html(report: dict) -> str:
    """report.html: the matrix, what changed since the last audit, then each host's details, collapsed."""
    sums = report['totals']
    # Amber where nothing drifts but not every host and control was judged: hosts without sendmail, controls left out.
    partial = sums.get('hosts_compliant', 0) < sums['hosts'] or report.get('excluded') or report.get('waived')
    tone = 'bad' if report['drift'] else 'warn' if partial else 'good'
    verdict = '<div class="verdict %s">%s</div>' % (tone, _e(verdict_text(report)))
    tiles = ''.join((
        _tile(sums['hosts'], 'hosts audited' if not sums['hosts_unreachable'] else 'hosts', ''),
        _tile(sums['hosts_drift'], 'hosts with drift', 'bad'),
        _tile(sums['hosts_unreachable'], 'hosts not audited', 'bad'),
        _tile(sums.get('hosts_no_sendmail', 0), 'hosts without sendmail', 'warn'),
        _tile(sums.get('controls_excluded', 0), 'controls excluded', 'warn'),
        _tile(sums['fail'], 'failed controls', 'bad'),
        _tile(sums['error'], 'controls in error', 'bad'),
        _tile(sums['waived'], 'waived', 'warn'),
        _tile(sums['pass'], 'passed controls', 'good'),
    ))
    body = '\n'.join(_html_host(index, host, report) for index, host in enumerate(report['hosts']))
    digest = base64.b64encode(hashlib.sha256(_SCRIPT.encode('utf-8')).digest()).decode('ascii')
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
        'script-src \'sha256-%(digest)s\'">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<title>sendmail audit report: %(baseline)s</title>\n<style>%(css)s</style>\n</head>\n<body>\n'
        '<header class="top"><div class="inner">\n<h1>sendmail audit report</h1>\n'
        '<div class="meta"><span>Baseline: %(baseline)s</span><span>Generated: %(generated)s</span>'
        '<span>mailsec.sendmail %(version)s</span></div>\n%(verdict)s\n</div></header>\n<main>\n'
        '<div class="tiles">%(tiles)s</div>\n%(merged)s<h2>Controls and hosts</h2>\n%(matrix)s\n%(left_out)s\n%(delta)s\n'
        '<h2>Hosts</h2>\n%(body)s\n'
        '<footer>%(results)s on %(hosts)s, generated %(generated)s by mailsec.sendmail %(version)s.</footer>\n</main>\n'
        '<script>%(script)s</script>\n</body>\n</html>\n'
    ) % {
        'baseline': _e(report['baseline']), 'generated': _e(report['generated_at']), 'version': _e(report['collection_version']),
        'css': _CSS, 'verdict': verdict, 'tiles': tiles, 'matrix': _matrix(report), 'left_out': _left_out(report),
        'delta': _delta(report), 'body': body,
        'merged': '<p class="facts">Merged from %s</p>\n' % _e(merged_text(report)) if report.get('merged') else '',
        'results': plural(sums['findings'], 'control result'), 'hosts': plural(sums['hosts'], 'host'), 'script': _SCRIPT,
        'digest': digest,
    }
