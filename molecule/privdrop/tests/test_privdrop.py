"""Each build reports its drop method; a kernel that refuses it is told apart; the book's delivery
case does on each build what docs/privdrop.md's table says it does."""
from __future__ import annotations

import json
import os

import pytest

# The method each host's sendmail was built with, and whether its kernel lets that method work.
BUILDS = {
    "pd-seteuid": ("seteuid", True),
    "pd-setreuid": ("setreuid", True),
    "pd-setuid": ("setuid", True),
    "pd-denied": ("setreuid", False),
}
# The rows of docs/privdrop.md's delivery table, by host and delivery: what the build is.
LABELS = {
    ("pd-seteuid", "as-built"): "Debian's build (`-DUSESETEUID=1`)",
    ("pd-setreuid", "as-built"): "upstream's Linux default (`-DUSESETEUID=0`)",
    ("pd-setuid", "as-built"): "setuid only (`-DUSESETEUID=0 -DHASSETREUID=0`)",
    ("pd-seteuid", "runasuser"): "Debian's build, RunAsUser=smmta forced",
}
DOC = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "docs", "privdrop.md")


def name(host) -> str:
    return host.backend.host


def info(host) -> dict:
    """sendmail_info's result as the converge step registered it (warnings included)."""
    return json.loads(host.file("/root/info.json").content_string)


def test_info_reports_the_compiled_method_and_whether_the_kernel_allows_it(host):
    method, works = BUILDS[name(host)]
    found = info(host)
    assert found["drop_method"] == method
    assert found["method_works"] is works
    warned = [text for text in found.get("warnings", []) if "failed that test" in text]
    assert len(warned) == (0 if works else 1)
    if not works:
        assert found["kernel"]["setreuid_ok"] is False and found["kernel"]["seteuid_ok"] is True
        assert "setreuid(0, 1) failed: Operation not permitted" in found["kernel"]["failed_step"]


def test_the_audit_fails_privdrop_only_where_the_kernel_refuses_the_method(host):
    method, works = BUILDS[name(host)]
    drift = host.ansible("mailsec.sendmail.sendmail_drift", "include=SM-PRIVDROP-01", check=True, become=True)
    found = drift["findings"][0]
    assert found["status"] == ("pass" if works else "fail")
    assert found["actual"] == "%s %s on this kernel" % (method, "works" if works else "fails")


def outcome(host, tag: str) -> dict:
    return json.loads(host.file(f"/root/delivery-{tag}.json").content_string)


def cell(entry: dict) -> str:
    return "%s %s, %s" % (entry["owner"], entry["mode"], "appended" if entry["appended"] else "not appended")


def row(host, tag: str) -> str:
    found = outcome(host, tag)
    method = BUILDS[name(host)][0]
    bounced = "yes: " + found["bounce"] if found["bounced"] else "no"
    return "| %s | %s | %s | %s | %s |" % (LABELS[(name(host), tag)], method, cell(found["files"]["bill"]),
                                          cell(found["files"]["alice"]), bounced)


@pytest.mark.parametrize("tag", ["as-built", "runasuser"])
def test_the_delivery_table_says_what_sendmail_did(host, tag):
    if (name(host), tag) not in LABELS:
        pytest.skip("no such delivery on this host")
    with open(DOC, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert row(host, tag) in lines, "docs/privdrop.md lacks the observed row:\n" + row(host, tag)
    assert "still queued" not in outcome(host, tag)["queue"]


def test_the_impact_analysis_named_the_list_before_runasuser(host):
    if name(host) == "pd-denied":
        pytest.skip("the list is set up on the delivering hosts only")
    found = json.loads(host.file("/root/runas-impact.json").content_string)
    assert found["status"] == "fail"
    assert "writes /home/bill/archive as smmta, not as bill" in found["evidence"]
    assert "writes /home/alice/archive as smmta, not as alice" in found["evidence"]


def test_forcing_runasuser_listed_both_archives(host):
    if name(host) != "pd-seteuid":
        pytest.skip("RunAsUser is forced on the seteuid host only")
    breaks = json.loads(host.file("/root/runas-breaks.json").content_string)
    assert [line.split(" ", 1)[0] for line in breaks] == ["/etc/mail/aliases", "/etc/mail/aliases"]
    assert [line.rsplit(": ", 1)[1] for line in breaks] == ["writes /home/bill/archive as smmta, not as bill",
                                                            "writes /home/alice/archive as smmta, not as alice"]
