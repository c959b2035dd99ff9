"""sendmail_info reports what the lab hosts really have: values read from bookworm and trixie."""
from __future__ import annotations

import pytest

VERSIONS = {"bookworm": "8.17.1.9", "trixie": "8.18.1"}


@pytest.fixture
def info(host):
    result = host.ansible("mailsec.sendmail.sendmail_info", "", check=True)
    assert result.get("failed") is not True, result
    return result


def test_version_and_drop_method(info, lab_vars):
    assert info["installed"] is True
    assert info["version"] == VERSIONS[lab_vars["lab_release"]]
    # Debian builds define both; sendmail's own order picks seteuid.
    assert {"HASSETREUID", "USESETEUID"} <= set(info["os_defines"])
    assert info["uses_seteuid"] is True and info["has_setreuid"] is True
    assert info["drop_method"] == "seteuid"


def test_kernel_probe_agrees(info):
    assert info["kernel"]["probed"] is True
    assert info["kernel"]["setreuid_ok"] is True
    assert info["kernel"]["seteuid_ok"] is True
    assert info["method_works"] is True


def test_live_settings(info, lab_vars):
    mta, msp = info["settings"]["mta"], info["settings"]["msp"]
    assert info["mta_config"] == "/etc/mail/sendmail.cf"
    assert info["msp_config"] == "/etc/mail/submit.cf"
    assert not mta.get("RunAsUser")
    assert mta["TrustedUser"] == "smmta"
    assert msp["RunAsUser"] == "smmsp"
    if lab_vars["lab_profile"] == "legacy":
        assert "GroupWritableAliasFile" in mta["DontBlameSendmail"]


def test_setid_files_and_statoverrides(info, lab_vars):
    files = {f["path"]: f for f in info["setid_files"]}
    binary = files["/usr/libexec/sendmail/sendmail"]
    assert binary["setgid"] is True and binary["group"] == "smmsp"
    assert binary["setuid"] is (lab_vars["lab_profile"] == "legacy")
    # Stock Debian ships sensible-mda set-user-id root: real drift the audit will report.
    assert files["/usr/sbin/sensible-mda"]["setuid"] is True
    overrides = {o["path"]: o for o in info["statoverrides"]}
    wanted = "6755" if lab_vars["lab_profile"] == "legacy" else "2755"
    assert overrides["/usr/libexec/sendmail/sendmail"]["mode"].lstrip("0") == wanted


def test_daemon_listener_is_seen(info):
    roles = [p["role"] for p in info["daemon"]["processes"]]
    assert info["daemon"]["running"] is True
    assert "listener" in roles
