"""Put the get-pip stand-in where ansible-test looks for its cached bootstrap script.

Run with the Python that has ansible-test installed (the project's .venv):

    .venv/bin/python tests/tools/place_get_pip_standin.py

The pip version is read from the installed ansible-test, so the file name
follows ansible-core upgrades. A genuine get-pip.py already in the cache is
left alone; an older copy of the stand-in is replaced.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import types
from pathlib import Path

HERE = Path(__file__).resolve().parent
STANDIN = HERE / "get_pip_standin.py"
MARKER = "mailsec.sendmail get-pip stand-in"


def pip_versions() -> set[str]:
    """Return the pip versions ansible-test bootstraps into its virtual environments."""
    try:
        from ansible_test._internal import python_requirements  # pylint: disable=import-outside-toplevel
    except ImportError as ex:
        sys.exit(f"place_get_pip_standin: cannot import ansible_test ({ex}); run this with the .venv Python.")

    versions = set()
    # get_venv_packages() only reads the .version attribute of its argument.
    for minor in range(8, 16):
        python = types.SimpleNamespace(version=f"3.{minor}")
        try:
            versions.add(python_requirements.get_venv_packages(python)["pip"])
        except Exception:  # noqa: BLE001  # pylint: disable=broad-exception-caught
            versions.clear()
            break

    if not versions:
        # Fall back to reading the default from the source.
        source = Path(python_requirements.__file__).read_text(encoding="utf-8")
        versions.update(re.findall(r"\bpip\s*=\s*'([0-9][0-9.]*)'", source))

    if not versions:
        sys.exit("place_get_pip_standin: cannot find the pip version ansible-test bootstraps.")

    return versions


def main() -> None:
    """Copy the stand-in to each cache path ansible-test may look at."""
    content = STANDIN.read_text(encoding="utf-8")
    if MARKER not in content:
        sys.exit(f"place_get_pip_standin: {STANDIN.name} lacks its marker line.")

    for version in sorted(pip_versions()):
        # Same path as ansible_test/_util/target/setup/requirements.py builds.
        name = "get_pip_" + version.replace(".", "_") + ".py"
        cache_path = Path(os.path.expanduser("~/.ansible/test/cache")) / name
        if cache_path.exists():
            current = cache_path.read_text(encoding="utf-8", errors="replace")
            if MARKER not in current:
                print(f"place_get_pip_standin: keeping the genuine bootstrap script {cache_path}")
                continue
            if current == content:
                print(f"place_get_pip_standin: stand-in for pip {version} already in place: {cache_path}")
                continue
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        temp_path = cache_path.with_suffix(".tmp")
        shutil.copyfile(STANDIN, temp_path)
        temp_path.replace(cache_path)
        print(f"place_get_pip_standin: stand-in for pip {version} placed at {cache_path}")


if __name__ == "__main__":
    main()
