"""The Debian mirror comes from the machine's apt sources, in either format."""
from __future__ import annotations

import pytest

from mailsec_lab.mirror import debian_mirror

DEB822 = """\
Types: deb
# a comment
URIs: http://mirror.example/debian/
Suites: bookworm bookworm-updates
Components: main

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_deb822_sources(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d/debian.sources").write_text(DEB822)
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_one_line_sources_skip_security_and_options(tmp_path):
    (tmp_path / "sources.list").write_text(
        "deb [signed-by=/k.gpg] http://security.example/debian-security bookworm-security main\n"
        "deb [arch=amd64] http://mirror.example/debian bookworm main\n")
    assert debian_mirror(tmp_path) == "http://mirror.example/debian"


def test_no_archive_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="no Debian archive"):
        debian_mirror(tmp_path)
