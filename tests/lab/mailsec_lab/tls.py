"""The `tls` profile: STARTTLS as Debian's update_tls and starttls.m4 set it up, and SMTP AUTH (PLAIN and
LOGIN) through a SASL database, as Debian's update_auth and sasl.m4 do. The key, the certificates and the
database are made on this machine (openssl, saslpasswd2); the PLAIN and LOGIN mechanisms come from
Debian's libsasl2-modules, fetched here with apt-get download and installed in the host with dpkg.
The image has neither: every other profile keeps offering no AUTH at all."""
from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from mailsec_lab import config, deps
from mailsec_lab.log import say

RELEASE = "bookworm"  # the release of this machine, whose libsasl2-modules the host gets
SASL_PACKAGE = "libsasl2-modules"
REALM = "lab.test"
USER = "labuser"
PASSWORD = "lab-auth-secret"
KEY = "etc/mail/tls/sendmail-common.key"
SERVER_CRT = "etc/mail/tls/sendmail-server.crt"
CLIENT_CRT = "etc/mail/tls/sendmail-client.crt"
SASLDB = "etc/sasldb2"
SASL_CONF = "etc/mail/sasl/Sendmail.conf.2"
SASL_CONF_LINK = "usr/lib/sasl2/Sendmail.conf"

STARTTLS_M4 = f"""\
dnl # STARTTLS, as Debian's update_tlsm4 writes it (lab): one key for the server and the client,
dnl # group-readable by smmsp, which DontBlameSendmail is told to accept.
define(`confCACERT_PATH', `/etc/mail/tls')dnl
define(`confCACERT', `/{SERVER_CRT}')dnl
define(`confSERVER_CERT', `/{SERVER_CRT}')dnl
define(`confSERVER_KEY', `/{KEY}')dnl
define(`confCLIENT_CERT', `/{CLIENT_CRT}')dnl
define(`confCLIENT_KEY', `/{KEY}')dnl
define(`confDONT_BLAME_SENDMAIL', defn(`confDONT_BLAME_SENDMAIL')`,GroupReadableKeyFile')dnl
"""

# The `tlsweak` profile: what a site does to let old clients in. OpenSSL 3 refuses TLS 1.0 and 1.1 at its
# security level 1 and above, so the cipher list lowers it to 0; the SSL options clear the SSL_OP_NO_* words
# a stricter default might have set.
WEAK_M4 = """\
dnl # Old clients (lab): TLS 1.0 and 1.1 accepted, OpenSSL's security level lowered for them.
define(`confCIPHER_LIST', `DEFAULT:@SECLEVEL=0')dnl
define(`confSERVER_SSL_OPTIONS', `-SSL_OP_NO_TLSv1 -SSL_OP_NO_TLSv1_1')dnl
define(`confCLIENT_SSL_OPTIONS', `-SSL_OP_NO_TLSv1 -SSL_OP_NO_TLSv1_1')dnl
"""

SASL_M4 = f"""\
dnl # SMTP AUTH, as Debian's update_authm4 writes it (lab): PLAIN and LOGIN against a SASL database
dnl # group-readable by smmsp, which DontBlameSendmail is told to accept.
define(`confAUTH_MECHANISMS', `PLAIN LOGIN')dnl
TRUST_AUTH_MECH(`PLAIN LOGIN')dnl
define(`confAUTH_REALM', `{REALM}')dnl
define(`confDONT_BLAME_SENDMAIL', defn(`confDONT_BLAME_SENDMAIL')`,GroupReadableSASLDBFile')dnl
"""

SENDMAIL_CONF = f"""\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: /{SASLDB}
"""


def _deb() -> Path:
    """libsasl2-modules of this machine's release, kept in the lab's cache."""
    folder = config.cache_dir() / "debs"
    found = sorted(folder.glob(f"{SASL_PACKAGE}_*.deb"))
    if found:
        return found[-1]
    folder.mkdir(parents=True, exist_ok=True)
    say(f"fetching {SASL_PACKAGE} with apt-get download")
    proc = subprocess.run(["apt-get", "download", "-q", SASL_PACKAGE], cwd=folder, capture_output=True, text=True,
                          check=False, stdin=subprocess.DEVNULL)
    found = sorted(folder.glob(f"{SASL_PACKAGE}_*.deb"))
    if proc.returncode != 0 or not found:
        raise SystemExit(f"apt-get download {SASL_PACKAGE} failed:\n{proc.stdout}{proc.stderr}")
    return found[-1]


def prepare(release: str) -> None:
    if release != RELEASE:
        raise SystemExit(f"the tls profile is for {RELEASE} only: its host gets this machine's {SASL_PACKAGE}")
    deps.ensure("openssl", "saslpasswd2")
    _deb()


def _run(argv: list[str], data: str | None = None) -> None:
    proc = subprocess.run(argv, input=data, capture_output=True, text=True, check=False,
                          stdin=None if data is not None else subprocess.DEVNULL,
                          env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C",
                               "DEBIAN_FRONTEND": "noninteractive"})
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout}{proc.stderr}")


def install_sasl_modules(root: Path) -> None:
    deb = _deb()
    target = root / "tmp" / deb.name
    target.write_bytes(deb.read_bytes())
    try:
        _run(["chroot", str(root), "dpkg", "-i", f"/tmp/{deb.name}"])
    finally:
        target.unlink()


def make_key_and_certificates(root: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        key, crt = os.path.join(work, "key"), os.path.join(work, "crt")
        _run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", crt,
              "-days", "3650", "-subj", f"/CN=mail.{REALM}"])
        (root / KEY).write_bytes(Path(key).read_bytes())
        for path in (SERVER_CRT, CLIENT_CRT):
            (root / path).write_bytes(Path(crt).read_bytes())


def make_sasl_database(root: Path) -> None:
    with tempfile.TemporaryDirectory() as work:
        database = os.path.join(work, "sasldb2")
        _run(["saslpasswd2", "-p", "-c", "-f", database, "-u", REALM, USER], data=PASSWORD)
        (root / SASLDB).write_bytes(Path(database).read_bytes())
    (root / SASL_CONF).write_text(SENDMAIL_CONF)
    link = root / SASL_CONF_LINK
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to("/" + SASL_CONF)


def write_m4(root: Path, weak: bool = False) -> None:
    (root / "etc/mail/tls/starttls.m4").write_text(STARTTLS_M4 + (WEAK_M4 if weak else ""))
    (root / "etc/mail/sasl/sasl.m4").write_text(SASL_M4)
