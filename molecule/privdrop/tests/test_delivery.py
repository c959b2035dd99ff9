"""The book's list on each build, as it comes: what sendmail did is what docs/privdrop.md says, and
SM-RUNAS-02 named both archives before RunAsUser was set."""
from __future__ import annotations

import json

from delivery import assert_documented

testinfra_hosts = ["ansible://pd-seteuid", "ansible://pd-setreuid", "ansible://pd-setuid"]


def test_the_delivery_table_says_what_sendmail_did(host):
    assert_documented(host, "as-built")


def test_the_impact_analysis_named_the_list_before_runasuser(host):
    found = json.loads(host.file("/root/runas-impact.json").content_string)
    assert found["status"] == "fail"
    assert "writes /home/bill/archive as smmta, not as bill" in found["evidence"]
    assert "writes /home/alice/archive as smmta, not as alice" in found["evidence"]
