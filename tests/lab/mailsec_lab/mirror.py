"""The Debian mirror, read from this machine's apt configuration at run time."""
from __future__ import annotations

import re
from pathlib import Path

APT_DIR = Path("/etc/apt")


def _deb822_uris(text: str) -> list[tuple[str, list[str]]]:
    found = []
    for stanza in re.split(r"\n\s*\n", text):
        fields = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, value = line.split(":", 1)
            fields[key.strip().lower()] = value.split()
        if "deb" in fields.get("types", []) and fields.get("uris"):
            found.extend((uri, fields.get("suites", [])) for uri in fields["uris"])
    return found


def _one_line_uris(text: str) -> list[tuple[str, list[str]]]:
    found = []
    for line in text.splitlines():
        words = [w for w in re.sub(r"\[[^]]*\]", "", line).split() if w]
        if len(words) >= 3 and words[0] == "deb":
            found.append((words[1], [words[2]]))
    return found


def debian_mirror(apt_dir: Path = APT_DIR) -> str:
    """The URI of the main Debian archive (not the security one) this machine's apt uses."""
    candidates: list[tuple[str, list[str]]] = []
    for path in sorted(apt_dir.glob("sources.list.d/*.sources")):
        candidates += _deb822_uris(path.read_text())
    for path in [apt_dir / "sources.list", *sorted(apt_dir.glob("sources.list.d/*.list"))]:
        if path.is_file():
            candidates += _one_line_uris(path.read_text())
    for uri, suites in candidates:
        if any(s and "-" not in s for s in suites) and "security" not in uri:
            return uri.rstrip("/")
    raise SystemExit("no Debian archive found in the apt sources of this machine: "
                     "add one to /etc/apt/sources.list.d/ and try again")
