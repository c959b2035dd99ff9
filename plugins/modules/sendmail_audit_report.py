#!/usr/bin/python
# Copyright (c) mailsec.sendmail developers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sendmail_audit_report
short_description: Write the compliance reports of a sendmail audit
version_added: 0.1.0
description:
  - Takes the results of M(mailsec.sendmail.sendmail_drift) for every host of an audit and writes the reports
    into one directory on the controller. It runs there as an action plugin, in the controller's own process, so
    nothing is shipped to a host and nothing needs C(delegate_to).
  - C(report.json) holds every host, every finding and the totals; C(junit.xml) has one test suite per host and one
    test case per host and control, for a CI job to gate on; C(report.md) and C(report.html) give a summary table per
    host, then each host's failing controls with expected and actual values, evidence, fix hint and references,
    and the waived controls with their reason and expiry.
  - C(report.html) is one self-contained file for a fleet. It opens with a controls by hosts matrix, hosts grouped by
    the controls they fail, with filters by control, family and severity and a search by host; each host's details are
    collapsed until opened. Its CSS and its few lines of script are inline (the script allowed by its hash in the page's
    Content-Security-Policy); no script, font, image or style is fetched from anywhere, so that it opens on an
    air-gapped laptop.
  - For the tools security teams load results into, the same audit as C(xccdf-results.xml) (XCCDF 1.2, the
    collection's Benchmark with one TestResult per host), C(arf.xml) (an ARF 1.1 report collection of those
    results, the form Red Hat Satellite and Foreman import) and C(oscal-assessment-results.json) (OSCAL 1.1.2
    assessment results, a finding and an observation per failing control and host). In XCCDF a control the
    selection left out is C(notselected), a waived one C(informational) with the waiver in its message, and
    every control of a host that could not be audited an C(error).
  - The same results give the same files, byte for byte (hosts sorted by name, controls by id), apart from the
    time of the run given in O(generated_at) and the times each host's audit began and ended.
  - A host that could not be audited (C(reachable) false) appears in every report with its message, and counts as
    drift; nothing shows that it meets the baseline.
  - Each host has a verdict, C(compliant), C(drift), C(no_sendmail) or C(not_audited). A host without sendmail (its
    C(sendmail.installed) false and nothing failing) is listed apart in every report, with the reason its audit gave,
    and never counted as meeting the baseline; a host where a sendmail daemon runs but no sendmail program answers
    drifts, every control in error. Results and reports written before verdicts existed are judged the same way.
  - "The controls a host's audit did not judge are named in every report, per host and for the whole report, and so
    in the sentence that gives the result (C(All 3 hosts meet the baseline, 4 controls excluded: SM-SMTP-01, ...)):
    those its selection left out (C(excluded) of M(mailsec.sendmail.sendmail_drift)) and those waived. In
    C(junit.xml) each excluded control is a skipped test case."
  - Each file is written to a temporary file first and then moved into place, so a reader never sees half a report.
author:
  - mailsec.sendmail developers (!UNKNOWN)
options:
  results:
    description:
      - One entry per host. C(host) (required) is its name; C(reachable) (default V(true)) whether the audit ran;
        C(msg) why it did not; C(sendmail), C(findings), C(excluded), C(counts) and C(drift) as
        M(mailsec.sendmail.sendmail_drift) returns them.
      - Counts and drift are computed again from the findings.
      - Exactly one of O(results), O(result_var) and O(merge) is required.
    type: list
    elements: dict
  result_var:
    description:
      - The name of the variable each host of the play registered the result of M(mailsec.sendmail.sendmail_drift) in.
        The results of every host of the play are read from it, on the controller, in the order of their names; a host
        that left the play, or has no findings there, is reported as not audited with its message.
      - This is how the C(mailsec.sendmail.sendmail_audit) role calls it, run once for the whole play.
    type: str
  merge:
    description:
      - The C(report.json) files of earlier audits to make one report of, such as those of the slices of an AWX or
        Automation Platform job with job slicing (each slice is a job of its own and writes its own report).
      - Each host is taken once. A host found in more than one report is taken from the newest (its C(generated_at),
        then the later file in the list); every format says which reports were merged and, for such a host, which
        report it was taken from and which were left out. Counts, drift and totals are computed again.
      - The merged report carries the time of the newest report merged, unless O(generated_at) is given.
      - Can be combined with O(compare_with).
    type: list
    elements: path
  dest:
    description:
      - The directory for the reports; created, with its parents, when missing.
    type: path
    required: true
  formats:
    description:
      - Which reports to write. V(json) is C(report.json), V(junit) is C(junit.xml), V(md) is C(report.md),
        V(html) is C(report.html), V(xccdf) is C(xccdf-results.xml), V(arf) is C(arf.xml), V(oscal) is
        C(oscal-assessment-results.json). Files of formats not listed are left as they are.
    type: list
    elements: str
    choices: [json, junit, md, html, xccdf, arf, oscal]
    default: [json, junit, md, html, xccdf, arf, oscal]
  baseline:
    description:
      - The name of the baseline the hosts were compared with, printed on every report.
    type: str
    default: mailsec.sendmail
  generated_at:
    description:
      - The time of the audit as printed on the reports, in UTC as C(YYYY-MM-DDTHH:MM:SSZ) (the form XCCDF and OSCAL
        take; anything else is refused and nothing is written); the current UTC time, to the second, when not given.
    type: str
  collection_version:
    description:
      - The version of the collection that audited, printed on the reports; V(unknown) when not given.
    type: str
  compare_with:
    description:
      - The C(report.json) of an earlier audit. Every report then says what changed since, per host and control, with the
        drift that is new, the drift fixed, and the drift still open with the date it was first reported (C(open_since),
        carried forward from report to report, so that each run can be compared with the one before it).
      - Hosts audited in only one of the two runs are listed as not compared.
      - It may be the very file O(dest) holds; it is read before anything is written.
    type: path
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: In check mode the module reports which files it would write and writes nothing.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The diff compares the summary of the C(report.json) in O(dest) (drift, totals, each host's counts and
      failing controls) with the new one; the time of the run is left out.
  platform:
    description: Target OS/families that can be operated against.
    support: full
    platforms: posix
notes:
  - Meant to run once (C(run_once=true)), after every host was audited; it always writes on the controller.
  - A report changes with every run, since it carries the time of the run; the module then reports a change.
seealso:
  - module: mailsec.sendmail.sendmail_drift
    description: Audits a host and returns the findings this module reports; the C(mailsec.sendmail.sendmail_audit) role calls both.
"""

EXAMPLES = r"""
- name: Audit each host
  mailsec.sendmail.sendmail_drift:
    host_name: "{{ inventory_hostname }}"
  register: drift
  become: true

- name: Write the reports of every host of the play, on the controller
  mailsec.sendmail.sendmail_audit_report:
    result_var: drift
    dest: "{{ playbook_dir }}/reports/audit"
    baseline: site baseline 2025
  run_once: true
  check_mode: false  # the audit changes no host; its report is still written under --check

- name: Write only the JUnit file of fixture results, for a CI job
  mailsec.sendmail.sendmail_audit_report:
    results:
      - host: mx1.example.org
        reachable: true
        sendmail: {installed: true, version: 8.17.1.9, drop_method: seteuid}
        findings:
          - id: SM-QUEUE-01
            title: The MTA queue belongs to root (or RunAsUser) with mode 0700
            family: queue
            severity: high
            status: fail
            expected: root 0700
            actual: smmta:smmsp 2750
            path: /var/spool/mqueue
            evidence: "drwxr-s--- smmta smmsp /var/spool/mqueue"
            references: ["sendmail, 4th edition, 4.1.1"]
            fix: chown root /var/spool/mqueue && chmod 0700 /var/spool/mqueue
            waiver: null
      - host: mx2.example.org
        reachable: false
        msg: "Failed to connect to the host via ssh"
    dest: /srv/ci/audit
    formats: [junit]
    baseline: site baseline 2025

- name: Make one fleet report of the reports of three job slices
  mailsec.sendmail.sendmail_audit_report:
    merge:
      - /srv/awx/slice-1/report.json
      - /srv/awx/slice-2/report.json
      - /srv/awx/slice-3/report.json
    dest: /srv/awx/fleet
  run_once: true
"""

RETURN = r"""
dest:
  description: The directory of the reports.
  returned: always
  type: str
  sample: /home/auditor/reports/audit
files:
  description: The path of each report written (or that would be written in check mode), by format.
  returned: always
  type: dict
  sample:
    json: /home/auditor/reports/audit/report.json
    junit: /home/auditor/reports/audit/junit.xml
    md: /home/auditor/reports/audit/report.md
    html: /home/auditor/reports/audit/report.html
merged:
  description:
    - With O(merge), the reports merged (C(sources), each with C(path), C(generated_at), C(hosts), the number of
      hosts in it, and C(hosts_no_sendmail), those of them without sendmail) and the hosts found in more than one
      (C(duplicates), each with C(host), C(kept_from), its C(generated_at) and C(left_out), the other reports that had it).
  returned: when merge is given
  type: dict
  sample:
    sources: [{path: /srv/awx/slice-1/report.json, generated_at: "2026-12-01T10:00:00Z", hosts: 40, hosts_no_sendmail: 2}]
    duplicates: [{host: mx1, kept_from: /srv/awx/slice-3/report.json, generated_at: "2026-12-01T10:05:00Z",
                  left_out: [/srv/awx/slice-1/report.json]}]
delta:
  description:
    - With O(compare_with), what changed since that report. C(new), C(fixed) and C(still_open) each list C(host),
      C(id), C(title), and for the last two C(open_since).
  returned: when O(compare_with) is given
  type: dict
  sample: {new: [{host: mx1, id: SM-QUEUE-02, title: "The MSP client queue ..."}], fixed: [], still_open: []}
written:
  description: The reports whose content changed, written (or to be written in check mode).
  returned: always
  type: list
  elements: str
  sample: [/home/auditor/reports/audit/report.json]
drift:
  description: Whether any host has a control that fails or could not be evaluated, or could not be audited.
  returned: always
  type: bool
  sample: true
totals:
  description: Counts over all hosts.
  returned: always
  type: dict
  contains:
    hosts:
      description: Hosts in the report.
      type: int
      sample: 3
    hosts_drift:
      description: Hosts with drift, unaudited ones included.
      type: int
      sample: 2
    hosts_compliant:
      description: Hosts that meet the baseline (verdict C(compliant)); hosts without sendmail are not among them.
      type: int
      sample: 1
    hosts_no_sendmail:
      description: Hosts without sendmail (verdict C(no_sendmail)), neither drift nor compliant.
      type: int
      sample: 0
    controls_excluded:
      description: Controls the selection left out on at least one host.
      type: int
      sample: 4
    controls_waived:
      description: Controls waived on at least one host.
      type: int
      sample: 1
    hosts_unreachable:
      description: Hosts the audit could not run on.
      type: int
      sample: 1
    findings:
      description: Findings over all hosts.
      type: int
      sample: 40
    pass:
      description: Findings with status C(pass).
      type: int
      sample: 28
    fail:
      description: Findings with status C(fail).
      type: int
      sample: 9
    error:
      description: Findings with status C(error).
      type: int
      sample: 0
    not_applicable:
      description: Findings with status C(not_applicable).
      type: int
      sample: 2
    waived:
      description: Findings with status C(waived).
      type: int
      sample: 1
excluded:
  description: The controls left out by the selection on at least one host, each with C(id), C(title) and C(hosts).
  returned: always
  type: list
  elements: dict
  sample: [{id: SM-SMTP-01, title: PrivacyOptions refuse SMTP probes and restrict the queue, hosts: [mx1, mx2]}]
waived:
  description: The controls waived on at least one host, each with C(id), C(title) and C(hosts).
  returned: always
  type: list
  elements: dict
  sample: [{id: SM-SETUID-01, title: No sendmail program is set-user-id root, hosts: [relay1]}]
hosts:
  description: One summary per host, sorted by name.
  returned: always
  type: list
  elements: dict
  contains:
    host:
      description: The host's name.
      type: str
      sample: mx1.example.org
    reachable:
      description: Whether the audit ran on the host.
      type: bool
      sample: true
    msg:
      description: Why the audit did not run on the host; null when it did.
      type: str
      sample: "Failed to connect to the host via ssh: Connection refused"
    drift:
      description: Whether the host drifts from the baseline.
      type: bool
      sample: true
    verdict:
      description: The host's verdict.
      type: str
      choices: [compliant, drift, no_sendmail, not_audited]
      sample: drift
    counts:
      description: The host's findings by status.
      type: dict
      sample: {pass: 14, fail: 5, error: 0, not_applicable: 0, waived: 1}
    failing:
      description: Ids of the controls that fail or could not be evaluated.
      type: list
      elements: str
      sample: [SM-QUEUE-01, SM-RUNAS-01]
    excluded:
      description: Ids of the controls the host's selection left out.
      type: list
      elements: str
      sample: [SM-SMTP-01, SM-SMTP-02, SM-SMTP-03, SM-SMTP-04]
    waived:
      description: Ids of the host's waived controls.
      type: list
      elements: str
      sample: [SM-SETUID-01]
    summary:
      description: One line about the host, for a terminal.
      type: str
      sample: "mx1.example.org: DRIFT, 20 controls: 14 pass, 5 fail, 0 error, 0 n/a, 1 waived [SM-QUEUE-01, SM-RUNAS-01]; waived: SM-SETUID-01"
"""

import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.mailsec.sendmail.plugins.module_utils._report import ReportError
from ansible_collections.mailsec.sendmail.plugins.module_utils._report_files import ARGUMENT_SPEC, SOURCES, diff_of, prepare, report_inputs


def write_file(module: AnsibleModule, path: str, data: bytes) -> None:
    """Write ``data`` to a temporary file in the module's temporary directory, then move it onto ``path``."""
    fd, tmp = tempfile.mkstemp(prefix='.report-', dir=module.tmpdir)
    try:
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        os.unlink(tmp)
        module.fail_json(msg='Could not write a temporary copy of %s: %s; check the space in %s.' % (path, to_native(exc), module.tmpdir))
    module.atomic_move(tmp, path)


def main() -> None:
    """Runs where the action plugin of the same name is not used (the module copied elsewhere); ``results`` is needed here."""
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, required_one_of=[SOURCES], mutually_exclusive=[SOURCES],
                           supports_check_mode=True)
    params = module.params
    dest = params['dest']
    if os.path.lexists(dest) and not os.path.isdir(dest):
        module.fail_json(msg='dest %s exists and is not a directory; give the directory the reports go to.' % dest)
    try:
        results, merged, generated_at = report_inputs(params)
        result, contents = prepare(results, dest, params['formats'], params['baseline'], generated_at,
                                   params['collection_version'], params['compare_with'], merged)
    except ReportError as exc:
        module.fail_json(msg='The results cannot be reported: %s.' % exc)
    if module._diff:
        result['diff'] = diff_of(result)
    del result['_summary']
    if result['written'] and not module.check_mode:
        try:
            os.makedirs(dest, exist_ok=True)
        except OSError as exc:
            module.fail_json(msg='Could not create the report directory %s: %s; create it or choose another dest.' % (dest, to_native(exc)))
        for path in result['written']:
            write_file(module, path, contents[path])
    module.exit_json(changed=bool(result['written']), **result)


if __name__ == '__main__':
    main()
