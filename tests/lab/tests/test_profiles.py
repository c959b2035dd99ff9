"""The handedit, nocf, gwpath, setreuid, forwards and tls profiles do what they say, on a running host,
and mail still flows on each. One light bookworm host per profile, started once for the whole module."""
from __future__ import annotations

import base64
import hashlib
import re
import smtplib
import ssl
import time
import uuid

import pytest
from conftest import lab, ssh, started_each

from mailsec_lab import hosts, srcbuild, tls
from mailsec_lab.profiles import SENDMAIL_BIN, describe

HOSTS = {"handedit": "pf-hand", "nocf": "pf-nocf", "gwpath": "pf-gw", "setreuid": "pf-reuid", "forwards": "pf-fwd",
         "tls": "pf-tls"}
# Where mail to alice lands: on forwards hosts her .forward pipes it to a program instead.
MAILBOX_PROFILES = [profile for profile in HOSTS if profile != "forwards"]

# The .cf without comments and blank lines next to what m4 builds of the .mc, in /etc/mail: the
# lines only the .cf has start with ">", those only the build has with "<".
CF_VS_MC = ("cd /etc/mail && m4 sendmail.mc | grep -v '^#' | grep -v '^$' >/tmp/built.cf && "
            "grep -v '^#' sendmail.cf | grep -v '^$' >/tmp/installed.cf; "
            "diff /tmp/built.cf /tmp/installed.cf | grep '^[<>]'; true")
STRICT = ("sed 's/^O DontBlameSendmail=.*/O DontBlameSendmail=safe/' /etc/mail/sendmail.cf >/tmp/strict.cf && "
          "grep -qx 'O DontBlameSendmail=safe' /tmp/strict.cf && sendmail -C /tmp/strict.cf -bv root")


@pytest.fixture(scope="module")
def profile_hosts(lab_state):
    yield from started_each(HOSTS, "bookworm:{key}:light")


def _smtp(host: hosts.Host) -> smtplib.SMTP:
    """Connected, and the 220 banner read: Debian's greet_pause refuses clients that talk first."""
    smtp = smtplib.SMTP(timeout=20, local_hostname="controller.lab.test")
    code, banner = smtp.connect(host.address, 25)
    assert code == 220, banner
    return smtp


def test_profiles_are_listed_with_their_changes(lab_state):
    listed = lab("profiles").stdout
    for profile in HOSTS:
        assert f"{profile}:\n" in listed
        for line in describe(profile):
            assert f"  - {line}\n" in listed


def test_handedit_lines_are_in_the_cf_only_and_sendmail_uses_them(profile_hosts):
    host = profile_hosts["handedit"]
    cf = ssh(host, "cat /etc/mail/sendmail.cf").stdout.splitlines()
    at = cf.index("# site limits, added by hand")
    assert cf[at + 1:at + 3] == ["O MaxMessageSize=5000000", "O MaxRecipientsPerMessage=50"]
    assert "#O MaxMessageSize=0" in cf  # Debian's commented default stays
    assert ssh(host, "grep -c MaxMessageSize /etc/mail/sendmail.mc", check=False).stdout.strip() == "0"
    assert ssh(host, CF_VS_MC).stdout.splitlines() == ["> O MaxMessageSize=5000000", "> O MaxRecipientsPerMessage=50"]
    with _smtp(host) as smtp:
        code, answer = smtp.ehlo()
    assert code == 250
    assert "SIZE 5000000" in answer.decode().splitlines()


def test_nocf_has_no_m4_and_no_cf_files_and_dpkg_agrees(profile_hosts):
    host = profile_hosts["nocf"]
    assert ssh(host, "ls -d /usr/bin/m4 /usr/share/sendmail/cf /etc/mail/Makefile 2>&1; true").stdout.count(
        "No such file or directory") == 3
    status = ssh(host, "dpkg-query -W -f '${Package} ${db:Status-Status}\\n' sendmail-cf m4 sendmail-bin").stdout
    assert sorted(status.splitlines()) == ["m4 not-installed", "sendmail-bin installed", "sendmail-cf not-installed"]
    assert ssh(host, "dpkg --audit").stdout == ""
    assert ssh(host, "test -s /etc/mail/sendmail.cf && sendmail -bv root").stdout.strip() == \
        "root... deliverable: mailer local, user root"


def test_gwpath_dir_is_group_writable_and_only_the_relaxed_config_accepts_it(profile_hosts):
    host = profile_hosts["gwpath"]
    assert ssh(host, "stat -c '%a %U:%G' /etc/mail").stdout.strip() == "2775 smmta:smmsp"
    dont_blame = ssh(host, "grep '^O DontBlameSendmail=' /etc/mail/sendmail.cf").stdout.strip()
    assert dont_blame.startswith("O DontBlameSendmail=,AssumeSafeChown,") and dont_blame.endswith(",GroupWritableDirPathSafe")
    assert ssh(host, CF_VS_MC).stdout == ""  # the .cf is still what the .mc builds
    assert ssh(host, "sendmail -bv root").returncode == 0
    strict = ssh(host, STRICT, check=False)
    assert strict.returncode != 0
    assert "Group writable directory" in strict.stdout + strict.stderr


def _send(host: hosts.Host, user: str, subject: str) -> None:
    with _smtp(host) as smtp:
        smtp.ehlo()
        smtp.sendmail(f"tester@{host.fqdn}", [f"{user}@{host.fqdn}"],
                      f"From: tester@{host.fqdn}\r\nSubject: {subject}\r\n\r\nlab\r\n")


def _wait_for(host: hosts.Host, subject: str, path: str) -> None:
    deadline = time.monotonic() + 30
    while ssh(host, f"grep -cx 'Subject: {subject}' {path}", check=False).stdout.strip() != "1":
        assert time.monotonic() < deadline, f"no mail in {path} on {host.name} after 30 s"
        time.sleep(0.5)


@pytest.mark.parametrize("profile", MAILBOX_PROFILES)
def test_mail_to_alice_is_delivered(profile_hosts, profile):
    host = profile_hosts[profile]
    subject = f"{profile}-{uuid.uuid4().hex[:12]}"
    _send(host, "alice", subject)
    _wait_for(host, subject, "/var/mail/alice")


def test_setreuid_host_runs_the_sendmail_built_with_setreuid(profile_hosts):
    """The built binary, as Debian installs its own; its -d0.10 lists HASSETREUID without
    USESETEUID, where Debian's lists both (its method is seteuid)."""
    host = profile_hosts["setreuid"]
    built = hashlib.sha256(srcbuild.build("setreuid").read_bytes()).hexdigest()
    out = ssh(host, f"stat -c '%a %U:%G' /{SENDMAIL_BIN} && sha256sum /{SENDMAIL_BIN}").stdout.split()
    assert out[:2] == ["2755", "root:smmsp"] and out[2] == built
    defines = srcbuild.os_defines(ssh(host, "sendmail -d0.10 -bt </dev/null").stdout)
    assert "HASSETREUID" in defines and "USESETEUID" not in defines


def test_forwards_pipe_alice_and_expand_bob_list(profile_hosts):
    """alice's .forward (0700 home) pipes her mail to a program run as alice; bob's :include: list
    (0600) sends a copy to his own mailbox and one to root's."""
    host = profile_hosts["forwards"]
    to_alice, to_bob = (f"forwards-{user}-{uuid.uuid4().hex[:12]}" for user in ("alice", "bob"))
    _send(host, "alice", to_alice)
    _send(host, "bob", to_bob)
    _wait_for(host, to_alice, "/home/alice/piped.mbox")
    assert re.search(r" uid=\d+\(alice\) ", ssh(host, "grep '^From lab-pipe-note ' /home/alice/piped.mbox").stdout)
    for mailbox in ("/var/mail/bob", "/var/mail/root"):
        _wait_for(host, to_bob, mailbox)
    assert ssh(host, f"grep -c 'Subject: {to_alice}' /var/mail/alice", check=False).stdout.strip() in ("", "0")


def test_built_profiles_are_for_bookworm_only(lab_state):
    result = lab("up", "pf-trixie-reuid:trixie:setreuid", check=False)
    assert result.returncode != 0 and "for bookworm only" in result.stderr
    assert not (lab_state / "hosts/pf-trixie-reuid").exists()
    result = lab("up", "pf-trixie-tls:trixie:tls", check=False)
    assert result.returncode != 0 and "for bookworm only" in result.stderr


def test_tls_offers_starttls_with_a_group_readable_key_and_auth_with_the_lab_user(profile_hosts):
    """As Debian's update_tls and update_auth leave a host: the key root:smmsp 0640, accepted through
    GroupReadableKeyFile; AUTH PLAIN and LOGIN against the lab's SASL database, before and after STARTTLS."""
    host = profile_hosts["tls"]
    assert ssh(host, f"stat -c '%U:%G %a' /{tls.KEY} /{tls.SASLDB}").stdout.split() == ["root:smmsp", "640"] * 2
    assert "GroupReadableKeyFile" in ssh(host, "grep '^O DontBlameSendmail=' /etc/mail/sendmail.cf").stdout
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    secret = base64.b64encode(f"\0{tls.USER}\0{tls.PASSWORD}".encode()).decode()
    wrong = base64.b64encode(f"\0{tls.USER}\0not-the-password".encode()).decode()
    # Named by its address (not as _smtp connects): STARTTLS hands the name to the TLS layer.
    with smtplib.SMTP(host.address, 25, timeout=20, local_hostname="controller.lab.test") as smtp:
        smtp.ehlo()
        assert smtp.has_extn("starttls") and smtp.esmtp_features["auth"].split() == ["PLAIN", "LOGIN"]
        smtp.starttls(context=context)
        smtp.ehlo()
        assert smtp.docmd("AUTH", "PLAIN " + wrong)[0] == 535
        assert smtp.docmd("AUTH", "PLAIN " + secret)[0] == 235
