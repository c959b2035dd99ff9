"""What an SMTP client from another address gets of a host's STARTTLS, with Python's smtplib and ssl: whether
STARTTLS is offered, the AUTH mechanisms before and after it, the protocol and cipher an ordinary client agrees
on, and, version by version, whether a handshake succeeds. Prints JSON. The versions are tried alone, with
OpenSSL's security level 0 on this side (Debian's OpenSSL 3 refuses TLS 1.0 and 1.1 above it), so that a
refusal is the server's. It sends no mail."""
from __future__ import annotations

import json
import smtplib
import ssl
import sys
import warnings

# A loopback address no lab host takes: the host sees a client from elsewhere.
CLIENT = "127.0.0.254"
VERSIONS = {"TLS 1.0": "TLSv1", "TLS 1.1": "TLSv1_1", "TLS 1.2": "TLSv1_2", "TLS 1.3": "TLSv1_3"}


def context(version: str | None = None) -> ssl.SSLContext:
    made = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    made.check_hostname = False
    made.verify_mode = ssl.CERT_NONE  # the lab's certificate is self-signed: the protocol is what is tested
    if version:
        with warnings.catch_warnings():  # TLS 1.0 and 1.1 are deprecated: trying them is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            if version != "TLSv1_3":
                made.set_ciphers("ALL:@SECLEVEL=0")
            made.minimum_version = made.maximum_version = getattr(ssl.TLSVersion, version)
    return made


def auth(smtp: smtplib.SMTP) -> list[str]:
    return smtp.esmtp_features.get("auth", "").upper().split()


def session(address: str):
    smtp = smtplib.SMTP(address, 25, timeout=20, source_address=(CLIENT, 0))
    smtp.ehlo("client.example")
    return smtp


def main(address: str) -> dict:
    found = {}
    with session(address) as smtp:
        found["starttls"] = smtp.has_extn("starttls")
        found["auth_before"] = auth(smtp)
        found["handshakes"] = {}
        if not found["starttls"]:  # nothing more to ask a host without it
            return found
        smtp.starttls(context=context())
        smtp.ehlo("client.example")
        found["version"], found["cipher"] = smtp.sock.version(), smtp.sock.cipher()[0]
        found["auth_after"] = auth(smtp)
    for label, version in VERSIONS.items():
        with session(address) as smtp:
            try:
                smtp.starttls(context=context(version))
                found["handshakes"][label] = "accepted"
            except (ssl.SSLError, OSError, smtplib.SMTPException) as exc:
                found["handshakes"][label] = "refused: %s" % (getattr(exc, "reason", None) or exc)
                smtp.close()
    return found


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1]), sort_keys=True))
