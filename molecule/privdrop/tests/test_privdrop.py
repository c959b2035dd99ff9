"""Each build reports its drop method, and a kernel that refuses it is told apart (test_delivery and
test_forced check the book's delivery case)."""
from __future__ import annotations

import json

# The method each host's sendmail was built with, and whether its kernel lets that method work.
BUILDS = {
    "pd-seteuid": ("seteuid", True),
    "pd-setreuid": ("setreuid", True),
    "pd-setuid": ("setuid", True),
    "pd-denied": ("setreuid", False),
}


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
