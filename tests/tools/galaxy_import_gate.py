"""Galaxy's importer on the built tarball: passes when its only complaint is the one a person must settle.

galaxy.yml names no public repository on purpose: that URL is for the project's owners to choose.
Galaxy's importer stops at its absence before any other check, so the gate runs it twice:
  1. on the tarball as built, where the missing repository must be the one and only error,
     printed as the named exception MISSING-REPOSITORY;
  2. on a scratch copy whose MANIFEST.json names a placeholder under the reserved .invalid domain
     (never shipped), so that the importer's ansible-doc, flake8 and ansible-lint checks run; there
     any warning or error fails the gate.
Once galaxy.yml names a repository, step 1 must pass outright and step 2 is not needed.

Usage: galaxy_import_gate.py TARBALL WORKDIR   (run with the importer's venv on PATH)
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

MISSING_REPOSITORY = "Invalid collection metadata. 'repository' is required"
PLACEHOLDER = "https://repository.invalid/"
COMPLAINT = re.compile(r"^(WARNING|ERROR)\b")


def run_importer(tarball: Path) -> tuple[int, list[str], str]:
    """The importer's exit status, its warning and error lines, and all it printed."""
    proc = subprocess.run([sys.executable, "-m", "galaxy_importer.main", tarball.name], cwd=tarball.parent,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    return proc.returncode, [line for line in output.splitlines() if COMPLAINT.match(line)], output


def with_placeholder(tarball: Path, workdir: Path) -> Path:
    """A copy of the tarball, same file name (the importer reads the name), naming the placeholder."""
    unpacked = workdir / "unpacked"
    shutil.rmtree(unpacked, ignore_errors=True)
    unpacked.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="tar")
    manifest = unpacked / "MANIFEST.json"
    data = json.loads(manifest.read_text())
    data["collection_info"]["repository"] = PLACEHOLDER
    manifest.write_text(json.dumps(data, indent=4))
    copy = workdir / "placeholder" / tarball.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(copy, "w:gz") as tar:
        for entry in sorted(unpacked.iterdir()):
            tar.add(entry, arcname=entry.name)
    return copy


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    tarball, workdir = Path(argv[1]).resolve(), Path(argv[2]).resolve()
    status, complaints, output = run_importer(tarball)
    if status == 0 and not complaints:
        print(f"galaxy-import: {tarball.name} imports with no warning")
        return 0
    if status == 0 or complaints != [f"ERROR: The import failed for the following reason: {MISSING_REPOSITORY}"]:
        print(output, file=sys.stderr)
        print(f"galaxy-import: FAILED on {tarball.name}: {len(complaints)} warning(s) or error(s) above", file=sys.stderr)
        return 1
    print(f"galaxy-import: expected exception MISSING-REPOSITORY: the importer refuses {tarball.name} because "
          "galaxy.yml names no public repository; that URL is for the project's owners to choose, and it is "
          "left absent until they do")
    probe = with_placeholder(tarball, workdir)
    status, complaints, output = run_importer(probe)
    if status != 0 or complaints:
        print(output, file=sys.stderr)
        print(f"galaxy-import: FAILED: with the repository placeholder {PLACEHOLDER}, the importer still has "
              f"{len(complaints)} warning(s) or error(s) (above)", file=sys.stderr)
        return 1
    print(f"galaxy-import: everything else passes: ansible-doc, flake8 and ansible-lint (production) on a scratch "
          f"copy naming the placeholder {PLACEHOLDER}, which is never shipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
