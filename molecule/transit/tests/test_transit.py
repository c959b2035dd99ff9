"""After the hardening, the tls and tlsweak hosts refuse TLS 1.0 and 1.1 and accept 1.2 and 1.3, offer no
plaintext AUTH mechanism before STARTTLS and take mail over it; the audit failed the transit controls before
and passes them now, with what the wire showed in its evidence; check mode promised exactly what the run did."""
from __future__ import annotations

import json
import os
import smtplib
import sys
import time
import uuid

import pytest
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "files"))
import tls_client  # noqa: E402  (the client the prepare step ran, from the scenario's files)

VERSIONS = ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]
# The hosts: the lab's tls and tlsweak profiles, and two stock hosts without STARTTLS, one given a certificate and
# key ("named"), one asking for a self-signed pair and given openssl to make it with ("self").
KINDS = {"transit-named": "named", "transit-self": "self"}
# Which versions a handshake succeeds with, per host, before the hardening (the stock hosts offer no STARTTLS);
# after it, on every host: 1.2 and 1.3.
BEFORE = {"tls": [False, False, True, True], "tlsweak": [True, True, True, True], "named": [], "self": []}
AFTER = [False, False, True, True]
TRANSIT = ["SM-TLS-01", "SM-TLS-02", "SM-TLS-03", "SM-TLS-04", "SM-TLS-05", "SM-TLS-06"]
# The audit before the hardening: the tls and tlsweak hosts have a key others can read, no protocol floor of their
# own and PLAIN and LOGIN before STARTTLS; their certificates are fine and STARTTLS is offered. The stock hosts have
# no STARTTLS and no floor, and no key, certificate or AUTH to judge.
FAILED_BEFORE = {"tls": ["SM-TLS-01", "SM-TLS-05", "SM-TLS-06"], "tlsweak": ["SM-TLS-01", "SM-TLS-05", "SM-TLS-06"],
                 "named": ["SM-TLS-03", "SM-TLS-05"], "self": ["SM-TLS-03", "SM-TLS-05"]}
# After it every transit control passes; the stock hosts still have no AUTH to judge.
STOCK_AFTER = dict(dict.fromkeys(TRANSIT, "pass"), **{"SM-TLS-06": "not_applicable"})
AFTER_STATUS = {"tls": dict.fromkeys(TRANSIT, "pass"), "tlsweak": dict.fromkeys(TRANSIT, "pass"), "named": STOCK_AFTER,
                "self": STOCK_AFTER}
# The certificate and key the MTA reads: the lab's on the tls hosts, the one given, the pair the hardening made.
CERT = {"named": "/etc/mail/given.crt", "self": "/etc/mail/sendmail-selfsigned.crt"}
KEY = {"tls": "/etc/mail/tls/sendmail-common.key", "tlsweak": "/etc/mail/tls/sendmail-common.key", "named": "/etc/mail/given.key",
       "self": "/etc/mail/sendmail-selfsigned.key"}
# The SASL mechanisms offered after STARTTLS: the lab's on the tls hosts, none on the stock ones.
AUTH_AFTER = {"tls": ["PLAIN", "LOGIN"], "tlsweak": ["PLAIN", "LOGIN"], "named": [], "self": []}


@pytest.fixture
def lab(host):
    with open(os.environ["MOLECULE_INSTANCE_CONFIG"], encoding="utf-8") as stream:
        return next(e for e in yaml.safe_load(stream) if e["instance"] == host.backend.host)


@pytest.fixture
def kind(lab):
    return KINDS.get(lab["instance"], lab["profile"])


def recorded(host, name: str):
    return json.loads(host.file(f"/root/{name}.json").content_string)


def accepted(wire: dict) -> list:
    return [wire["handshakes"][label] == "accepted" for label in VERSIONS if label in wire["handshakes"]]


def test_handshakes_before_and_after_over_the_wire(host, lab, kind):
    before, after = recorded(host, "wire-before"), tls_client.main(lab["smtp_address"])
    assert accepted(before) == BEFORE[kind], before["handshakes"]
    assert accepted(after) == AFTER, after["handshakes"]
    assert after["starttls"] and after["version"] == "TLSv1.3"


def test_no_plaintext_mechanism_before_starttls(host, lab, kind):
    before, after = recorded(host, "wire-before"), tls_client.main(lab["smtp_address"])
    assert before["auth_before"] == AUTH_AFTER[kind]
    assert after["auth_before"] == []
    assert after["auth_after"] == AUTH_AFTER[kind]


def statuses(findings: list) -> dict:
    return {item["id"]: item["status"] for item in findings}


def test_the_audit_failed_the_transit_controls_before_and_passes_them_now(host, lab, kind):
    before = {item["id"]: item for item in recorded(host, "audit-before")}
    assert [i for i in TRANSIT if before[i]["status"] == "fail"] == FAILED_BEFORE[kind]
    floor = before["SM-TLS-05"]
    if kind in ("named", "self"):
        assert before["SM-TLS-03"]["actual"].startswith("STARTTLS is not configured")
        assert "STARTTLS not offered" in before["SM-TLS-03"]["evidence"]
    elif kind == "tlsweak":
        assert "TLS 1.0 accepted over the wire" in floor["actual"] and "CipherList: @SECLEVEL=0" in floor["actual"]
        assert "handshakes: TLS 1.0 accepted, TLS 1.1 accepted, TLS 1.2 accepted, TLS 1.3 accepted" in floor["evidence"]
    else:  # OpenSSL's own policy refuses the old versions: the finding is the missing floor of sendmail's own
        assert "over the wire" not in floor["actual"] and "handshakes: TLS 1.0 refused" in floor["evidence"]
    if kind in ("tls", "tlsweak"):
        assert "MTA-v4 %s:25 offers PLAIN LOGIN before STARTTLS" % lab["smtp_address"] in before["SM-TLS-06"]["actual"]
    now = host.ansible("mailsec.sendmail.sendmail_drift", "include=transit,SM-TLS-01", check=True, become=True)
    assert statuses(now["findings"]) == AFTER_STATUS[kind]
    evidence = {item["id"]: item["evidence"] for item in now["findings"]}
    assert "handshakes: TLS 1.0 refused" in evidence["SM-TLS-05"] and "TLS 1.3 accepted" in evidence["SM-TLS-05"]
    if kind in ("tls", "tlsweak"):
        assert "AUTH before STARTTLS: none" in evidence["SM-TLS-06"] and "AUTH after STARTTLS: PLAIN LOGIN" in evidence["SM-TLS-06"]
    assert "STARTTLS offered" in evidence["SM-TLS-03"] and "negotiated TLSv1.3" in evidence["SM-TLS-03"]


def test_check_mode_promised_exactly_what_the_run_changed(host, lab, kind):
    check, real = recorded(host, "harden-check"), recorded(host, "harden-real")
    assert set(FAILED_BEFORE[kind]) <= set(check["changed_controls"])
    assert check["changed_controls"] == real["changed_controls"] and check["manual"] == real["manual"] == []
    planned = sorted((s["id"] or "", s["kind"], s["target"]) for s in check["plan"])
    done = sorted((s["id"] or "", s["kind"], s["target"]) for s in real["plan"] if s["changed"])
    assert planned == done
    by_option = {s["option"]: s["after"] for s in real["plan"] if s["kind"] == "cf_option"}
    floor = "+SSL_OP_NO_SSLv3 +SSL_OP_NO_TLSv1 +SSL_OP_NO_TLSv1_1"
    assert (by_option["ServerSSLOptions"], by_option["ClientSSLOptions"]) == (floor, floor)
    assert by_option.get("AuthOptions") == (None if kind in ("named", "self") else "p")
    if kind in ("named", "self"):  # the pair given or made, named with the CA certificates sendmail needs for STARTTLS
        assert [by_option[name] for name in ("ServerCertFile", "ServerKeyFile", "CACertFile", "CACertPath")] == [
            CERT[kind], KEY[kind], CERT[kind], "/etc/mail"]
    if kind == "named":  # taken along: the MTA reads the key as smmta once RunAsUser is set
        assert "SM-TLS-01" in real["changed_controls"]
    made = [(s["target"], s["after"]["owner"], s["changed"]) for s in real["plan"] if s["kind"] == "self_signed"]
    # the pair asked for, made for the user the MTA runs as after the run
    assert made == ([(KEY["self"], "smmta", True)] if kind == "self" else [])


def test_the_key_belongs_to_the_mta_user_alone(host, lab, kind):
    key = host.file(KEY[kind])
    assert (key.user, key.mode) == ("smmta", 0o600)
    assert host.file("/etc/mail/sendmail.cf").contains("^O DontBlameSendmail=safe$")


# What the hardening says where a self-signed pair is asked for on a host without openssl.
NO_OPENSSL = ("a self-signed pair was asked for, but the host has no openssl: install it, or name a certificate and key "
              "with sendmail_hardening_tls_cert_file and sendmail_hardening_tls_key_file")


def test_openssl_is_the_version_of_the_hosts_libssl(host, kind):
    if kind != "self":
        pytest.skip("only the host that makes a pair is given openssl")
    versions = host.check_output("dpkg-query -W -f '${Version} ' openssl libssl3").split()
    assert len(versions) == 2 and versions[0] == versions[1], versions


def test_without_openssl_a_pair_asked_for_changes_nothing_and_says_so_once(host, kind):
    """The named host has no openssl: asked for a pair at other paths, SM-TLS-03 names nothing, makes nothing."""
    if kind != "named":
        pytest.skip("asked on the stock host that has no openssl")
    assert not host.exists("openssl")
    expected = {"SM-TLS-03": {"cert": "/etc/mail/other.crt", "key": "/etc/mail/other.key", "self_signed": True}}
    found = host.ansible("mailsec.sendmail.sendmail_harden", json.dumps({"include": ["SM-TLS-03"], "expected": expected}),
                         check=True, become=True)
    assert (found["changed"], found["changed_controls"], found["manual"]) == (False, [], ["SM-TLS-03"])
    assert [s for s in found["plan"] if s["id"] == "SM-TLS-03"] == []
    assert [(s["kind"], s["target"]) for s in found["not_done"] if s["why"] == NO_OPENSSL] == [("manual", "/etc/mail/other.key")]
    assert not host.file("/etc/mail/other.key").exists


def test_mail_is_delivered_over_starttls(host, lab, kind):
    subject = f"transit-{uuid.uuid4().hex[:12]}"
    with smtplib.SMTP(lab["smtp_address"], 25, timeout=20, source_address=(tls_client.CLIENT, 0)) as smtp:
        smtp.ehlo("client.example")
        smtp.starttls(context=tls_client.context())
        smtp.ehlo("client.example")
        smtp.sendmail(f"tester@{lab['fqdn']}", [f"alice@{lab['fqdn']}"], f"Subject: {subject}\r\n\r\nover TLS\r\n")
    deadline = time.monotonic() + 60
    while True:
        messages = host.run("cat /var/mail/alice").stdout.split("\nFrom ")
        mine = [text for text in messages if f"\nSubject: {subject}\n" in text]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert len(mine) == 1, f"{subject} was not delivered"
    # sendmail notes the TLS session in its Received line: (version=TLSv1.3 cipher=... bits=... verify=NO)
    assert "version=TLSv1.3" in mine[0], mine[0][:800]


def test_a_pair_that_could_not_be_made_safely_is_not_named(host, kind):
    """A pair asked for in a directory others can write to is refused, and nothing names it."""
    if kind != "self":
        pytest.skip("only this host has openssl")
    expected = {"SM-TLS-03": {"cert": "/tmp/other.crt", "key": "/tmp/other.key", "self_signed": True}}
    found = host.ansible("mailsec.sendmail.sendmail_harden", json.dumps({"include": ["SM-TLS-03"], "expected": expected}),
                         check=True, become=True)
    assert (found["changed"], found["changed_controls"], found["manual"]) == (False, [], ["SM-TLS-03"])
    assert [s for s in found["plan"] if s["id"] == "SM-TLS-03"] == []
    assert [(s["kind"], s["target"]) for s in found["not_done"] if s["id"] == "SM-TLS-03"] == [("refuse", "/tmp/other.key")]


def test_undo_removes_the_pair_it_made(host, kind):
    """Last for its host: the undo of the hardening takes the pair away with the options that named it."""
    if kind != "self":
        pytest.skip("only this host had a pair made")
    undone = host.ansible("mailsec.sendmail.sendmail_harden", json.dumps({"undo": True}), check=False, become=True)
    assert undone["changed"] is True and "self_signed" in {item["kind"] for item in undone["undone"]}, undone.get("msg")
    assert not host.file(KEY["self"]).exists and not host.file(CERT["self"]).exists
    assert not host.file("/etc/mail/sendmail.cf").contains("^O ServerKeyFile=")
