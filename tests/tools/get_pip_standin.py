"""Stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test bootstraps pip into each virtual environment it creates by
running ``get-pip.py`` from its cache (``~/.ansible/test/cache``), and
fetches that script from a host this project's machines cannot reach.
place_get_pip_standin.py copies this file into the cache under the name
ansible-test looks for. It takes the same arguments as get-pip.py (pip
install options and requirement specifiers such as ``pip==24.2``, plus
``--no-setuptools`` and ``--no-wheel``), bootstraps pip with ensurepip and
then installs the requested versions from the configured package index.
"""

from __future__ import annotations

import os
import subprocess
import sys

STANDIN_MARKER = "mailsec.sendmail get-pip stand-in"

DEFAULT_PACKAGES = ("pip", "setuptools", "wheel")


def _names(args: list[str]) -> set[str]:
    """Return the lower-case project names of the requirement specifiers in args."""
    names = set()
    for arg in args:
        if arg.startswith("-"):
            continue
        name = arg
        for sep in "<>=!~;[ ":
            name = name.split(sep, 1)[0]
        names.add(name.lower().replace("_", "-"))
    return names


def _run(command: list[str]) -> None:
    """Run a command, echoing it, and exit with its status if it fails."""
    print("get-pip stand-in: " + " ".join(command), flush=True)
    result = subprocess.run(command, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.exit(result.returncode)


def _has_module(name: str) -> bool:
    """Tell whether the interpreter can import the named top-level module."""
    command = [sys.executable, "-c", "import " + name]
    return subprocess.run(command, check=False, capture_output=True).returncode == 0  # noqa: S603


def main() -> None:
    """Bootstrap pip with ensurepip, then install what the arguments ask for."""
    args = sys.argv[1:]
    skip = {"--no-" + name for name in DEFAULT_PACKAGES if name != "pip"}
    install_args = [arg for arg in args if arg not in skip]

    # As get-pip.py does: without explicit specifiers, install the latest of
    # pip, setuptools and wheel, except those switched off with --no-NAME.
    wanted = _names(install_args)
    for name in DEFAULT_PACKAGES:
        if name not in wanted and "--no-" + name not in args:
            install_args.append(name)

    try:
        import ensurepip  # noqa: F401  # pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        sys.exit(
            "get-pip stand-in: this Python has no ensurepip module; "
            "install the Debian package python3-venv (or python3.X-venv) and retry."
        )

    had_setuptools = _has_module("setuptools")

    env_note = os.environ.get("VIRTUAL_ENV", sys.prefix)
    print("get-pip stand-in: bootstrapping pip into " + env_note, flush=True)
    _run([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"])
    _run([sys.executable, "-m", "pip", "install", "--upgrade", *install_args])

    # ensurepip of Python < 3.12 also installs setuptools; get-pip.py with
    # --no-setuptools would not, so take it out again unless it was there.
    if "--no-setuptools" in args and not had_setuptools and "setuptools" not in wanted and _has_module("setuptools"):
        _run([sys.executable, "-m", "pip", "uninstall", "--yes", "--disable-pip-version-check", "setuptools"])


if __name__ == "__main__":
    main()
