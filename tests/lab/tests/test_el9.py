"""The el9 profile: sendmail laid out as RHEL 9's package lays it out, on a Debian userland. One systemd host
(as the Molecule scenario runs it) and one light host, started once for the whole module."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from conftest import lab, ssh, started_each

from mailsec_lab import config, el9, el9files, hosts, srcbuild
from mailsec_lab.profiles import describe

HOSTS = {"systemd": "e9-sd", "light": "e9-light"}
# What the package lays out: path → "mode owner:group" (stat's %a %U:%G), or "-> target" for a link.
LAYOUT = {
    "/usr/sbin/sendmail.sendmail": "2755 root:smmsp",
    "/usr/sbin/mailstats": "755 root:root",
    "/usr/sbin/makemap.sendmail": "755 root:root",
    "/usr/sbin/editmap.sendmail": "755 root:root",
    "/usr/sbin/praliases": "755 root:root",
    "/usr/sbin/smrsh": "755 root:root",
    "/usr/bin/rmail.sendmail": "755 root:root",
    "/usr/bin/mailq.sendmail": "-> ../sbin/sendmail.sendmail",
    "/usr/bin/newaliases.sendmail": "-> ../sbin/sendmail.sendmail",
    "/usr/bin/hoststat": "-> ../sbin/sendmail.sendmail",
    "/usr/bin/purgestat": "-> ../sbin/sendmail.sendmail",
    "/usr/bin/makemap": "-> ../sbin/makemap",
    "/usr/lib/sendmail.sendmail": "-> ../sbin/sendmail.sendmail",
    "/etc/mail": "755 root:root",
    "/etc/mail/sendmail.cf": "644 root:root",
    "/etc/mail/submit.cf": "644 root:root",
    "/etc/mail/sendmail.mc": "644 root:root",
    "/etc/mail/make": "755 root:root",
    "/etc/mail/access.db": "640 root:root",
    "/etc/smrsh": "755 root:root",
    "/var/spool/mqueue": "700 root:mail",
    "/var/spool/clientmqueue": "770 smmsp:smmsp",
    "/var/spool/clientmqueue/sm-client.st": "660 smmsp:smmsp",
    "/var/log/mail": "755 root:root",
    "/var/log/mail/statistics": "600 root:root",
    "/etc/aliases.db": "640 root:smmsp",
    "/var/spool/mail": "775 root:mail",
    "/var/mail": "-> spool/mail",
    "/etc/pki/tls/certs/sendmail.pem": "600 root:root",
    "/etc/pki/tls/private/sendmail.key": "600 root:root",
    "/etc/sysconfig/sendmail": "644 root:root",
    "/usr/lib/systemd/system/sendmail.service": "644 root:root",
    "/usr/lib/systemd/system/sm-client.service": "644 root:root",
}


@pytest.fixture(scope="module")
def el9_hosts(lab_state):
    yield from started_each(HOSTS, "bookworm:el9:{key}")


def _out(host: hosts.Host, command: str) -> str:
    return ssh(host, command).stdout


def test_el9_is_listed_with_its_changes(lab_state):
    listed = lab("profiles").stdout
    assert "el9:\n" in listed
    for line in describe("el9"):
        assert f"  - {line}\n" in listed


def test_el9_is_for_bookworm_only(lab_state):
    result = lab("up", "e9-trixie:trixie:el9", check=False)
    assert result.returncode != 0 and "for bookworm only" in result.stderr
    assert not (lab_state / "hosts/e9-trixie").exists()


def test_units_are_active_and_run_as_rhel_runs_them(el9_hosts):
    host = el9_hosts["systemd"]
    assert _out(host, "systemctl is-active sendmail.service sm-client.service").split() == ["active", "active"]
    assert _out(host, "systemctl is-enabled sendmail.service sm-client.service").split() == ["enabled", "enabled"]
    assert _out(host, "cat /run/sendmail.pid | head -1").strip() == _out(host, "systemctl show -p MainPID --value sendmail").strip()
    assert _out(host, "stat -c %U /run/sm-client.pid").strip() == "smmsp"
    runner = _out(host, "ps -o user=,args= -p $(systemctl show -p MainPID --value sm-client)").split()
    assert runner[0] == "smmsp" and "/var/spool/clientmqueue" in runner


@pytest.mark.parametrize("backend", HOSTS)
def test_mail_submitted_with_sendmail_reaches_the_spool(el9_hosts, backend):
    """Through the MSP (submit.cf), the MTA on the host's address, procmail, to RHEL's /var/spool/mail."""
    host = el9_hosts[backend]
    subject = f"el9-{backend}-{uuid.uuid4().hex[:12]}"
    ssh(host, f"printf 'Subject: {subject}\\n\\nlab\\n' | /usr/sbin/sendmail alice")
    deadline = time.monotonic() + 30
    while ssh(host, f"grep -cx 'Subject: {subject}' /var/spool/mail/alice", check=False).stdout.strip() != "1":
        assert time.monotonic() < deadline, f"no mail in /var/spool/mail/alice on {host.name} after 30 s"
        time.sleep(0.5)


def test_sendmail_drops_privileges_with_setreuid(el9_hosts):
    defines = srcbuild.os_defines(_out(el9_hosts["systemd"], "/usr/sbin/sendmail -d0.10 -bt </dev/null"))
    assert "HASSETREUID" in defines and "USESETEUID" not in defines


def test_layout_owners_and_modes(el9_hosts):
    host = el9_hosts["systemd"]
    found = {}
    for line in _out(host, "stat -c '%n|%a %U:%G|%F' " + " ".join(LAYOUT)).splitlines():
        path, mode, kind = line.split("|")
        found[path] = mode if kind != "symbolic link" else None
    for path, want in LAYOUT.items():
        if want.startswith("-> "):
            assert found[path] is None and _out(host, f"readlink {path}").strip() == want[3:], path
        else:
            assert found[path] == want, path
    ids = _out(host, "getent passwd mailnull smmsp mail; getent group mail").splitlines()
    assert ids == ["mailnull:x:47:47::/var/spool/mqueue:/sbin/nologin", "smmsp:x:51:51::/var/spool/mqueue:/sbin/nologin",
                   "mail:x:8:12:mail:/var/spool/mail:/usr/sbin/nologin", "mail:x:12:"]


def test_alternatives_lead_to_the_sendmail_files(el9_hosts):
    host = el9_hosts["systemd"]
    for name, link, target in el9files.ALTERNATIVES:
        assert _out(host, f"readlink {link}").strip() == f"/etc/alternatives/{name}"
        assert _out(host, f"readlink -e {link}").strip() == _out(host, f"readlink -e {target}").strip()
    assert _out(host, "readlink -e /usr/sbin/sendmail /usr/bin/mailq /usr/lib/sendmail").split() == \
        ["/usr/sbin/sendmail.sendmail"] * 3
    state = _out(host, "cat /var/lib/alternatives/mta").split("\n")
    assert state[:4] == ["auto", "/usr/sbin/sendmail", "mta-makemap", "/usr/sbin/makemap"]
    assert state[state.index("/usr/sbin/sendmail.sendmail") + 1] == "90 sendmail"


def test_debian_sendmail_is_gone_and_m4_and_procmail_stay(el9_hosts):
    host = el9_hosts["systemd"]
    query = "dpkg-query -W -f '${Package} ${db:Status-Status}\\n' "
    assert sorted(_out(host, query + "m4 procmail rpm").splitlines()) == ["m4 installed", "procmail installed", "rpm installed"]
    gone = ssh(host, query + " ".join(el9.DEBIAN_PACKAGES), check=False).stdout.splitlines()
    assert all(line.endswith(" not-installed") for line in gone), gone
    assert ssh(host, "test -e /usr/libexec/sendmail || test -e /etc/init.d/sendmail", check=False).returncode == 1
    assert _out(host, "cd /etc/mail && m4 sendmail.mc | grep -v '^#' | cmp - <(grep -v '^#' sendmail.cf) && echo same").strip() == "same"
    assert _out(host, "cd /etc/mail && for mc in sendmail.mc submit.mc; do m4 $mc 2>&1 >/dev/null; done") == ""


def test_rpm_verifies_clean_reports_changes_and_puts_them_back(el9_hosts):
    host = el9_hosts["systemd"]
    assert _out(host, "rpm -qa --qf '%{NAME}\\n' | sort").split() == ["sendmail", "sendmail-cf"]
    assert _out(host, f"ls {el9.DBPATH}/rpmdb.sqlite").strip() == f"{el9.DBPATH}/rpmdb.sqlite"
    clean = ssh(host, "rpm -V sendmail sendmail-cf", check=False)
    assert (clean.returncode, clean.stdout) == (0, "")
    try:
        ssh(host, "chmod 4755 /usr/sbin/sendmail.sendmail && chown daemon /usr/sbin/mailstats")
        changed = ssh(host, "rpm -V sendmail", check=False)
        assert changed.returncode == 1
        assert changed.stdout.splitlines() == [".....U...    /usr/sbin/mailstats", ".M.......    /usr/sbin/sendmail.sendmail"]
    finally:
        ssh(host, "rpm --setugids sendmail && rpm --setperms sendmail")
    again = ssh(host, "rpm -V sendmail", check=False)
    assert (again.returncode, again.stdout) == (0, "")
    assert _out(host, "stat -c '%a %U:%G' /usr/sbin/sendmail.sendmail /usr/sbin/mailstats").split() == \
        ["2755", "root:smmsp", "755", "root:root"]


def test_os_release_says_el9(el9_hosts):
    host = el9_hosts["systemd"]
    fields = dict(line.split("=", 1) for line in _out(host, "cat /etc/os-release").splitlines() if "=" in line)
    assert "rhel" in fields["ID_LIKE"].strip('"').split() and fields["PLATFORM_ID"] == '"platform:el9"'
    assert _out(host, "cat /etc/redhat-release").startswith("AlmaLinux release 9")


def test_ansible_sees_the_redhat_family(el9_hosts, tmp_path):
    """gather_facts works there, and says what the collection's RedHat paths are chosen by."""
    ansible = shutil.which("ansible", path=str(Path(sys.executable).parent)) or shutil.which("ansible")
    if ansible is None:
        pytest.skip("no ansible here")
    host = el9_hosts["systemd"]
    proc = subprocess.run([ansible, "-i", str(config.inventory_path()), host.name, "-m", "ansible.builtin.setup",
                           "-a", "filter=ansible_os_family,ansible_distribution*,ansible_service_mgr,ansible_pkg_mgr",
                           "-o"], capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ANSIBLE_LOCAL_TEMP": str(tmp_path)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    facts = json.loads(proc.stdout.split("=>", 1)[1])["ansible_facts"]
    assert (facts["ansible_os_family"], facts["ansible_distribution"], facts["ansible_distribution_major_version"],
            facts["ansible_service_mgr"]) == ("RedHat", "AlmaLinux", "9", "systemd")
