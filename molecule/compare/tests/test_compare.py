"""The second audit says, in every format, what changed on the changed host and that nothing changed on the other."""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

# What stock Debian fails (the audit scenario's STOCK_FAILS); on cmp-changed one is fixed and one is new.
STOCK_FAILS = {"SM-RUNAS-01", "SM-SETUID-01", "SM-FILE-01", "SM-QUEUE-01", "SM-SAFE-01",
               "SM-SMTP-01", "SM-SMTP-02", "SM-SMTP-03", "SM-ALIAS-02", "SM-FWD-01", "SM-PROG-01",
               "SM-PROG-02", "SM-DOS-01", "SM-TLS-03", "SM-TLS-05"}


@pytest.fixture(scope="module")
def reports() -> dict:
    base = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
    return {name: json.loads((base / name / "report.json").read_text()) for name in ("first", "second")}


@pytest.fixture(scope="module")
def second_dir() -> Path:
    return Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "second"


def of(items, host):
    return sorted(item["id"] for item in items if item["host"] == host)


def test_the_delta_names_the_new_and_the_fixed_drift(host, reports):
    delta = reports["second"]["delta"]
    name = host.backend.host
    if name == "cmp-changed":
        assert of(delta["new"], name) == ["SM-QUEUE-02"] and of(delta["fixed"], name) == ["SM-SETUID-01"]
        assert of(delta["still_open"], name) == sorted(STOCK_FAILS - {"SM-SETUID-01"})
    else:
        assert of(delta["new"], name) == [] and of(delta["fixed"], name) == []
        assert of(delta["still_open"], name) == sorted(STOCK_FAILS)
    first_at = reports["first"]["generated_at"]
    assert delta["compared_with"]["generated_at"] == first_at
    assert all(item["open_since"] == first_at and item["open_days"] == 0 for item in delta["still_open"] if item["host"] == name)


def test_junit_and_markdown_and_html_say_it_too(host, second_dir):
    name = host.backend.host
    suite = next(s for s in ET.parse(second_dir / "junit.xml").getroot().iter("testsuite") if s.get("name") == name)
    properties = {p.get("name"): p.get("value") for p in suite.find("properties")}
    cases = {case.get("name").split()[0]: case for case in suite.findall("testcase")}
    md = (second_dir / "report.md").read_text()
    html = (second_dir / "report.html").read_text()
    assert "## Since the last audit" in md and "<h2>Since the last audit</h2>" in html
    if name == "cmp-changed":
        assert (properties["drift_new"], properties["drift_fixed"]) == ("SM-QUEUE-02", "SM-SETUID-01")
        assert cases["SM-QUEUE-02"].find("failure").get("message").startswith("[new since ")
        assert cases["SM-SETUID-01"].find("system-out").text.startswith("fixed since ")
        assert f"| {name} | SM-QUEUE-02 |" in md.split("### New drift (1)")[1].split("###")[0]
        assert 'class="s-fail nw" title="SM-QUEUE-02: fail, new since the last audit"' in html
    else:
        assert (properties["drift_new"], properties["drift_fixed"]) == ("", "")
        assert cases["SM-RUNAS-01"].find("failure").get("message").startswith("[open since ")
