"""RunAsUser forced on the seteuid host: the result listed both archives, and neither was written."""
from __future__ import annotations

import json

from delivery import assert_documented

testinfra_hosts = ["ansible://pd-seteuid"]


def test_forcing_runasuser_listed_both_archives(host):
    breaks = json.loads(host.file("/root/runas-breaks.json").content_string)
    assert [line.split(" ", 1)[0] for line in breaks] == ["/etc/mail/aliases", "/etc/mail/aliases"]
    assert [line.rsplit(": ", 1)[1] for line in breaks] == ["writes /home/bill/archive as smmta, not as bill",
                                                            "writes /home/alice/archive as smmta, not as alice"]


def test_the_delivery_table_says_what_sendmail_did(host):
    assert_documented(host, "runasuser")
