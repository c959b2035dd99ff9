"""The hardening under every selection a user can make, on fresh light lab hosts of several profiles (el9: systemd).

Selections (--kinds): `default` (the role as it comes); `alone`, each hardened control alone (--tags ID;
controls of audit-only families are left out); `family`, each family alone (the other families'
switches off); `skip-family`, each family switched off; `excluded`, each control in
sendmail_hardening_exclude; `runas`, sendmail_hardening_run_as_user ''; `waiver`, a waiver of each
control. Controls and families are read from the catalogue.

Each (selection, profile) gets a fresh host. Selections made of host variables share one
ansible-playbook run over many hosts (a generated inventory: the lab's entries plus the
selection's variables); --tags selections get one run per tag over the hosts of every profile.
Each run is made in --check first and then for real, through the collection's mailsec.sendmail.harden
and a play that records the role's result on the controller. Then, on each host:

  run      both runs of the selection ended without a failure on the host
  scope    the real run changed only what the selection names: a control alone and the fixes it needs
           (REQUIRES, taken too), a family alone and nothing else; never an excluded or waived control,
           a family switched off, or RunAsUser where it is left alone
  cf       `sendmail -bv root` accepts the configuration
  submit   an ordinary user's submission (nobody, `sendmail -oi alice`) reaches /var/mail/alice
  smtp     a message sent over SMTP from this machine to the host's address is accepted and delivered
  tls      (tls profile) STARTTLS is offered and works, and AUTH PLAIN with the lab user's password is 235
  daemon   the MTA daemon that ran before the runs runs after them (its pid file, kill -0)
  promise  --check promised exactly what the real run changed: the same controls, the same steps
  full     a full run of the hardening (no selection) then ends without a failure
  again    and the next full run reports changed=0

Prints one table (selections by checks, passed/judged over the profiles), the failures with what the
run or the host said, and the wall time; exits 1 on any failure. --sample is the part `make test`
runs: every family alone and switched off on one profile, and the default run on tls.
"""
from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mailsec_lab import config, hosts, image, inventory, tls

ROOT = Path(__file__).resolve().parents[2]
RECORD_PLAYBOOK = Path(__file__).resolve().parent / "bench" / "selections.yml"
PROFILES = ("stock", "legacy", "handedit", "setreuid", "tls", "el9")
KINDS = ("default", "alone", "family", "skip-family", "excluded", "runas", "waiver")
CHECKS = ("run", "scope", "cf", "submit", "smtp", "tls", "daemon", "promise", "full", "again")
SAMPLE_PROFILE = "legacy"
# An el9 host runs its units under systemd, as RHEL does: it has no init script for a light host's service manager.
BACKENDS = {"el9": "systemd"}
# Where the sample runs the default selection too.
SAMPLE_DEFAULT = ("tls", "el9")
PREFIX = "sel"
# Where the MTA's pid is: Debian's place, then Red Hat's (the el9 profile).
PID_FILES = ("/run/sendmail/mta/sendmail.pid", "/run/sendmail.pid")
DELIVERY_TIMEOUT = 60.0
CF_LINE = re.compile(r": line \d+: ")
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)
FATAL = re.compile(r"^(?:fatal|failed): \[([^\]\s]+)(?: -> [^\]]+)?\]: (?:FAILED|UNREACHABLE)! => (.*)$", re.M)


def catalogue():
    """The controls catalogue, as the documentation generator loads it: without Ansible."""
    spec = importlib.util.spec_from_file_location("gen_controls_doc", ROOT / "tests/tools/gen_controls_doc.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_catalogue()


@dataclass(frozen=True)
class Selection:
    kind: str
    value: str = ""
    args: tuple[str, ...] = ()  # ansible-playbook options: global to a run
    hostvars: dict = field(default_factory=dict, hash=False, compare=False)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.value}".strip()


CATALOGUE = catalogue()


def selections(kinds: list[str]) -> list[Selection]:
    cat = CATALOGUE
    families = [f for f in cat.FAMILIES if f not in cat.AUDIT_ONLY_FAMILIES]
    controls = [c["id"] for c in cat.CONTROLS if c["family"] in families]
    made = {
        "default": [Selection("default")],
        "alone": [Selection("alone", cid, ("--tags", cid)) for cid in controls],
        "family": [Selection("family", fam, hostvars={f"sendmail_hardening_{other}": False for other in families if other != fam})
                   for fam in families],
        "skip-family": [Selection("skip-family", fam, hostvars={f"sendmail_hardening_{fam}": False}) for fam in families],
        "excluded": [Selection("excluded", cid, hostvars={"sendmail_hardening_exclude": [cid]}) for cid in controls],
        "runas": [Selection("runas", "''", hostvars={"sendmail_hardening_run_as_user": ""})],
        "waiver": [Selection("waiver", cid, hostvars={"sendmail_hardening_waivers": [
            {"id": cid, "hosts": "*", "reason": "selection sweep", "expires": "2099-12-31"}]}) for cid in controls],
    }
    return [s for kind in kinds for s in made[kind]]


@dataclass
class Unit:
    """One selection on one profile, on a host of its own."""
    selection: Selection
    profile: str
    name: str
    host: hosts.Host | None = None
    results: dict = field(default_factory=dict)  # check -> (passed, evidence)

    def judge(self, check: str, passed: bool, evidence: str = "") -> None:
        self.results[check] = (passed, " ".join(evidence.split())[:400])


# --- ansible-playbook --------------------------------------------------------------------------------

@dataclass
class Run:
    recap: dict  # host -> {ok, changed, unreachable, failed}
    fatal: dict  # host -> [messages]
    records: dict  # host -> the role's result as recorded, when recorded


def _message(raw: str) -> str:
    try:
        data = json.loads(raw)
    except ValueError:
        return raw
    return str(data.get("msg") or data.get("stderr") or data.get("reason") or raw)


def playbook(inv: Path, names: list[str], options: list[str], play: str, log: Path, forks: int) -> Run:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / "build/installed"), ANSIBLE_HOST_KEY_CHECKING="False",
               ANSIBLE_PIPELINING="True", ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False")
    binary = Path(sys.executable).parent / "ansible-playbook"
    records = log.with_suffix(".records")
    records.mkdir(parents=True, exist_ok=True)
    cmd = [str(binary if binary.exists() else shutil.which("ansible-playbook")), "-i", str(inv), "--limit", ",".join(names),
           "--forks", str(min(forks, len(names))), "-e", f"selections_record_dir={records}", *options, play]
    proc = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    log.write_text(" ".join(cmd) + "\n" + proc.stdout + proc.stderr)
    recap = {m.group(1): dict(zip(("ok", "changed", "unreachable", "failed"), map(int, m.groups()[1:]), strict=True))
             for m in RECAP.finditer(proc.stdout)}
    fatal = defaultdict(list)
    for match in FATAL.finditer(proc.stdout):
        fatal[match.group(1)].append(_message(match.group(2)))
    if not recap and proc.returncode:
        for name in names:
            fatal[name].append(f"ansible-playbook exit {proc.returncode}: {(proc.stderr or proc.stdout)[-600:]}")
    found = {}
    for path in records.glob("*.json"):
        found[path.name.rsplit("-", 1)[0]] = json.loads(path.read_text())
    return Run(recap, dict(fatal), found)


def host_ok(run: Run, name: str) -> tuple[bool, str]:
    stats = run.recap.get(name)
    if stats is None:
        return False, "; ".join(run.fatal.get(name, [])) or "not in the play recap"
    if stats["failed"] or stats["unreachable"]:
        return False, "; ".join(run.fatal.get(name, [])) or f"recap {stats}"
    return True, ""


# --- on the host --------------------------------------------------------------------------------------

def ssh(host: hosts.Host, command: str, stdin: str | None = None, timeout: float = 90) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(hosts.ssh_command(host, command), input=stdin, capture_output=True, text=True, check=False,
                              timeout=timeout, stdin=None if stdin is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        return subprocess.CompletedProcess(exc.cmd, 124, "", f"timed out after {timeout:.0f} s")


DAEMON = (f"pid=$(head -q -n 1 {' '.join(PID_FILES)} 2>/dev/null | head -n 1) && kill -0 \"$pid\" && "
          "ps -o pid=,user=,args= -p \"$pid\"")


def daemon(host: hosts.Host) -> tuple[bool, str]:
    proc = ssh(host, DAEMON)
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip() or f"no live process in {' or '.join(PID_FILES)}"


def smtp_send(host: hosts.Host, subject: str) -> str:
    """'' when the message was accepted, else what went wrong."""
    message = f"From: tester@{host.fqdn}\r\nTo: alice@{host.fqdn}\r\nSubject: {subject}\r\n\r\nselection sweep\r\n"
    try:
        with smtplib.SMTP(host.address, 25, timeout=30, local_hostname="controller.lab.test") as smtp:
            smtp.sendmail(f"tester@{host.fqdn}", [f"alice@{host.fqdn}"], message)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def tls_auth(host: hosts.Host) -> tuple[bool, str]:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    secret = base64.b64encode(f"\0{tls.USER}\0{tls.PASSWORD}".encode()).decode()
    try:
        with smtplib.SMTP(host.address, 25, timeout=30, local_hostname="controller.lab.test") as smtp:
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                return False, f"STARTTLS not offered: EHLO {sorted(smtp.esmtp_features)}"
            smtp.starttls(context=context)
            smtp.ehlo()
            code, answer = smtp.docmd("AUTH", "PLAIN " + secret)
            if code != 235:
                return False, f"AUTH PLAIN after STARTTLS: {code} {answer.decode(errors='replace')}; " \
                              f"EHLO offered auth={smtp.esmtp_features.get('auth', '(none)')}"
    except (OSError, smtplib.SMTPException) as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, ""


def mail_checks(unit: Unit) -> None:
    """cf, submit, smtp and tls on the host as the selection left it."""
    host = unit.host
    proc = ssh(host, "sendmail -bv root")
    # sendmail exits non-zero on a line it cannot read; a message naming a line counts too.
    unit.judge("cf", proc.returncode == 0 and "deliverable" in proc.stdout and not CF_LINE.search(proc.stdout + proc.stderr),
               f"sendmail -bv root: exit {proc.returncode}: {proc.stdout} {proc.stderr}")
    token = uuid.uuid4().hex[:10]
    subjects = {"submit": f"sweep-submit-{token}", "smtp": f"sweep-smtp-{token}"}
    submitted = ssh(host, "su -s /bin/sh nobody -c '/usr/sbin/sendmail -oi alice'",
                    stdin=f"Subject: {subjects['submit']}\n\nselection sweep\n")
    refused = {"submit": "" if submitted.returncode == 0 else
               f"sendmail -oi alice as nobody: exit {submitted.returncode}: {submitted.stdout} {submitted.stderr}",
               "smtp": smtp_send(host, subjects["smtp"])}
    waiting = {check for check in subjects if not refused[check]}
    started, flushed = time.monotonic(), 0.0
    while waiting and time.monotonic() - started < DELIVERY_TIMEOUT:
        box = ssh(host, "grep -h -o -F " + " ".join(f"-e {subjects[c]}" for c in waiting) + " /var/mail/alice").stdout
        waiting -= {check for check in waiting if subjects[check] in box}
        if waiting and time.monotonic() - flushed > 10 and time.monotonic() - started > 5:
            ssh(host, "sendmail -Ac -q")  # the client queue, as its queue runner would
            flushed = time.monotonic()
        if waiting:
            time.sleep(2)
    queues = ""
    if waiting:
        queues = ssh(host, "cat /proc/loadavg; mailq -Ac 2>&1 | tail -n 6; mailq 2>&1 | tail -n 6; "
                           "ls -l /var/mail/alice 2>&1").stdout
    for check in subjects:
        if refused[check]:
            unit.judge(check, False, refused[check])
        else:
            unit.judge(check, check not in waiting, f"not in /var/mail/alice after {DELIVERY_TIMEOUT:.0f} s: {queues}")
    if unit.profile == "tls":
        unit.judge("tls", *tls_auth(host))


def scope(selection: Selection, real: dict) -> tuple[bool, str]:
    """The controls the real run changed that the selection leaves out."""
    changed = set(real.get("changed_controls") or [])
    family = {c["id"]: c["family"] for c in CATALOGUE.CONTROLS}
    if selection.kind == "alone":
        allowed, todo = set(), [selection.value]
        while todo:  # the fixes it needs, and theirs
            cid = todo.pop()
            allowed.add(cid)
            todo += [need["id"] for need in CATALOGUE.REQUIRES.get(cid, []) if need["id"] not in allowed]
        stray = changed - allowed
    elif selection.kind == "family":
        stray = {cid for cid in changed if family[cid] != selection.value}
    elif selection.kind == "skip-family":
        stray = {cid for cid in changed if family[cid] == selection.value}
    elif selection.kind in ("excluded", "waiver"):
        stray = changed & {selection.value}
    elif selection.kind == "runas":
        stray = changed & {"SM-RUNAS-01"}
    else:
        stray = set()
    return not stray, f"changed {', '.join(sorted(stray))} outside the selection (changed: {', '.join(sorted(changed))})"


def promise(check: dict | None, real: dict | None) -> tuple[bool | None, str]:
    """--check against the real run: the same controls changed, the same manual ones, the same steps."""
    if check is None or real is None:
        return None, ""
    problems = []
    for key in ("changed_controls", "manual", "cf_source"):
        if check.get(key) != real.get(key):
            problems.append(f"{key}: check {check.get(key)} real {real.get(key)}")
    planned = Counter((s.get("id") or "", s.get("kind"), s.get("target")) for s in check.get("plan") or [])
    done = Counter((s.get("id") or "", s.get("kind"), s.get("target")) for s in real.get("plan") or [] if s.get("changed"))
    if planned != done:
        problems.append(f"steps only promised {sorted((planned - done).elements())}, only done {sorted((done - planned).elements())}")
    return not problems, "; ".join(problems)


# --- the sweep ----------------------------------------------------------------------------------------

def write_inventory(path: Path, units: list[Unit], with_selection: bool) -> None:
    text = inventory.render([u.host for u in units])
    tree = json.loads("\n".join(line for line in text.splitlines() if not line.startswith("#")))
    if with_selection:
        for unit in units:
            tree["all"]["children"]["lab"]["hosts"][unit.name].update(unit.selection.hostvars)
    path.write_text(json.dumps(tree, indent=1) + "\n")


def run_batch(number: int, batch: list[Unit], args: argparse.Namespace, work: Path) -> None:
    try:
        for unit in batch:
            if (config.hosts_dir() / unit.name).exists():
                hosts.destroy(hosts.load(unit.name))
            unit.host = hosts.create(unit.name, "bookworm", unit.profile, BACKENDS.get(unit.profile, "light"))
        for unit in batch:
            hosts.start(unit.host)
        hosts.wait_ready([u.host for u in batch], timeout=300)
        inventory.write(hosts.all_hosts())
        chosen, plain = work / f"b{number:02d}-selection.yml", work / f"b{number:02d}-full.yml"
        write_inventory(chosen, batch, True)
        write_inventory(plain, batch, False)
        with ThreadPoolExecutor(8) as pool:
            before = dict(zip([u.name for u in batch], pool.map(lambda u: daemon(u.host), batch), strict=True))
        groups = defaultdict(list)
        for unit in batch:
            groups[unit.selection.args].append(unit)

        def selection_runs(item: tuple[int, tuple[tuple[str, ...], list[Unit]]]) -> None:
            index, (options, units) = item
            names = [u.name for u in units]
            runs = {mode: playbook(chosen, names, list(options) + (["--check"] if mode == "check" else []), str(RECORD_PLAYBOOK),
                                   work / f"b{number:02d}-g{index:02d}-{mode}.log", args.forks) for mode in ("check", "real")}
            for unit in units:
                results = [host_ok(runs[mode], unit.name) for mode in ("check", "real")]
                unit.judge("run", all(ok for ok, _why in results),
                           "; ".join(f"{mode}: {why}" for mode, (ok, why) in zip(("check", "real"), results, strict=True) if not ok))
                real = runs["real"].records.get(unit.name)
                if real is not None:
                    unit.judge("scope", *scope(unit.selection, real))
                passed, why = promise(runs["check"].records.get(unit.name), real)
                if passed is not None:
                    unit.judge("promise", passed, why)

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(selection_runs, enumerate(groups.items())))
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(mail_checks, batch))
            after = dict(zip([u.name for u in batch], pool.map(lambda u: daemon(u.host), batch), strict=True))
        for unit in batch:
            (was, then), (now, seen) = before[unit.name], after[unit.name]
            unit.judge("daemon", was and now, f"before: {then}; after: {seen}")
        names = [u.name for u in batch]
        full = playbook(plain, names, [], "mailsec.sendmail.harden", work / f"b{number:02d}-full.log", args.forks)
        again = playbook(plain, names, [], "mailsec.sendmail.harden", work / f"b{number:02d}-again.log", args.forks)
        for unit in batch:
            unit.judge("full", *host_ok(full, unit.name))
            ok, why = host_ok(again, unit.name)
            changed = again.recap.get(unit.name, {}).get("changed", 0)
            unit.judge("again", ok and changed == 0, why or f"changed={changed}: " + changed_tasks(work / f"b{number:02d}-again.log", unit.name))
    finally:
        for unit in batch:
            if unit.host:
                hosts.destroy(unit.host)
        inventory.write(hosts.all_hosts())


def changed_tasks(log: Path, name: str) -> str:
    """The tasks a run reported as changed on a host, with the role's summary line."""
    task, found = "", []
    for line in log.read_text().splitlines():
        if line.startswith(("TASK [", "RUNNING HANDLER [")):
            task = line.split("[", 1)[1].rsplit("]", 1)[0]
        elif line.startswith(f"changed: [{name}]"):
            found.append(task)
        elif f'"msg": "{name}: ' in line:
            found.append(line.strip())
    return "; ".join(found)


def batches(units: list[Unit], size: int) -> list[list[Unit]]:
    """Whole selections, up to ``size`` hosts a batch."""
    out: list[list[Unit]] = [[]]
    by_selection = defaultdict(list)
    for unit in units:
        by_selection[unit.selection].append(unit)
    for group in by_selection.values():
        if out[-1] and len(out[-1]) + len(group) > size:
            out.append([])
        out[-1].extend(group)
    return [b for b in out if b]


def table(units: list[Unit]) -> tuple[str, list[Unit]]:
    rows, order = defaultdict(list), []
    for unit in units:
        if unit.selection.label not in rows:
            order.append(unit.selection.label)
        rows[unit.selection.label].append(unit)
    width = max(len(label) for label in order) + 2
    lines = [f"{'selection':<{width}}{'profiles':<10}" + "".join(f"{c:>9}" for c in CHECKS)]
    for label in order:
        cells = []
        for check in CHECKS:
            judged = [u.results[check][0] for u in rows[label] if check in u.results]
            cell = f"{sum(judged)}/{len(judged)}" + ("!" if not all(judged) else "") if judged else "-"
            cells.append(f"{cell:>9}")
        lines.append(f"{label:<{width}}{len(rows[label]):<10}" + "".join(cells))
    return "\n".join(lines), order


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default=",".join(PROFILES), help="lab profiles, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS), help="kinds of selection, comma-separated: " + ", ".join(KINDS))
    parser.add_argument("--limit", type=int, default=0, help="at most N selections of each kind (a quick look)")
    parser.add_argument("--sample", action="store_true",
                        help=f"every family alone and switched off on {SAMPLE_PROFILE}, and the default run on tls and el9")
    parser.add_argument("--batch", type=int, default=30, help="hosts up at a time")
    parser.add_argument("--forks", type=int, default=8, help="forks of each ansible-playbook run")
    parser.add_argument("--jobs", type=int, default=2, help="--tags runs side by side")
    parser.add_argument("--logs", help="keep every run's output and inventories in this folder")
    args = parser.parse_args()
    profiles = [p for p in args.profiles.split(",") if p]
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = sorted(set(profiles) - set(config.PROFILES)) + sorted(set(kinds) - set(KINDS))
    if unknown:
        parser.error(f"unknown profile or kind: {', '.join(unknown)}")
    if args.sample:
        plan = [(s, SAMPLE_PROFILE) for s in selections(["family", "skip-family"])] + [
            (s, profile) for profile in SAMPLE_DEFAULT for s in selections(["default"])]
    else:
        chosen = []
        for kind in kinds:
            chosen += selections([kind])[:args.limit or None]
        plan = [(s, p) for s in chosen for p in profiles]
    units = [Unit(s, p, f"{PREFIX}{i:03d}") for i, (s, p) in enumerate(plan)]
    image.ensure_base("bookworm")
    started = time.monotonic()
    work = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="bench-selections-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        todo = batches(units, args.batch)
        for number, batch in enumerate(todo, 1):
            began = time.monotonic()
            run_batch(number, batch, args, work)
            bad = sum(1 for u in batch for passed, _why in u.results.values() if not passed)
            print(f"batch {number}/{len(todo)}: {len(batch)} hosts, {len({u.selection for u in batch})} selections, "
                  f"{time.monotonic() - began:.0f} s, {bad} failures", flush=True)
    finally:
        if not args.logs:
            shutil.rmtree(work, ignore_errors=True)
    wall = time.monotonic() - started
    text, _order = table(units)
    failures = [(u, check, why) for u in units for check, (passed, why) in u.results.items() if not passed]
    print()
    print(text)
    print()
    print(f"{len(failures)} failures in {len(units)} (selection, profile) pairs, {len({u.selection for u in units})} selections")
    if failures:
        per = Counter((u.selection.kind, u.profile) for u, _c, _w in failures)
        print("failures by kind and profile: " + ", ".join(f"{k} on {p}: {n}" for (k, p), n in sorted(per.items())))
        for unit, check, why in failures:
            print(f"  {unit.selection.label} | {unit.profile} | {check} | {why}")
    print(f"wall time {wall:.0f} s ({wall / 60:.1f} min)" + (f"; logs in {work}" if args.logs else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
