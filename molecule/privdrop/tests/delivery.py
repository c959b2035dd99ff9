"""What the converge step recorded of each delivery, as the rows of docs/privdrop.md's table."""
from __future__ import annotations

import json
import os

from test_privdrop import BUILDS, name

# The rows of docs/privdrop.md's delivery table, by host and delivery: what the build is.
LABELS = {
    ("pd-seteuid", "as-built"): "Debian's build (`-DUSESETEUID=1`)",
    ("pd-setreuid", "as-built"): "upstream's Linux default (`-DUSESETEUID=0`)",
    ("pd-setuid", "as-built"): "setuid only (`-DUSESETEUID=0 -DHASSETREUID=0`)",
    ("pd-seteuid", "runasuser"): "Debian's build, RunAsUser=smmta forced",
}
DOC = os.path.join(os.environ.get("MOLECULE_PROJECT_DIRECTORY", "."), "docs", "privdrop.md")


def outcome(host, tag: str) -> dict:
    return json.loads(host.file(f"/root/delivery-{tag}.json").content_string)


def cell(entry: dict) -> str:
    return "%s %s, %s" % (entry["owner"], entry["mode"], "appended" if entry["appended"] else "not appended")


def row(host, tag: str) -> str:
    found = outcome(host, tag)
    bounced = "yes: " + found["bounce"] if found["bounced"] else "no"
    cells = (LABELS[(name(host), tag)], BUILDS[name(host)][0], cell(found["files"]["bill"]), cell(found["files"]["alice"]), bounced)
    return "| %s | %s | %s | %s | %s |" % cells


def assert_documented(host, tag: str) -> None:
    with open(DOC, encoding="utf-8") as handle:
        lines = handle.read().splitlines()
    assert row(host, tag) in lines, "docs/privdrop.md lacks the observed row:\n" + row(host, tag)
    assert "still queued" not in outcome(host, tag)["queue"]
