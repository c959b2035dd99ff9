#!/usr/bin/env bash
# Make sure Debian packages are installed, non-interactively.
# Usage: ensure-deb.sh COMMAND[:PACKAGE] ... | :PACKAGE ...
#   Each COMMAND is looked up on PATH; when missing, PACKAGE (default: COMMAND)
#   is installed with apt-get. With an empty COMMAND (":python3-venv") the
#   package itself is checked with dpkg-query. The package lists are refreshed
#   only when a first install attempt fails.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive

missing=()
for spec in "$@"; do
    cmd=${spec%%:*}
    pkg=${spec#*:}
    if [ -z "$cmd" ]; then
        if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" = "install ok installed" ]; then
            echo "ensure-deb: package $pkg is installed"
        else
            missing+=("$pkg")
        fi
    elif command -v "$cmd" >/dev/null 2>&1; then
        echo "ensure-deb: $cmd found at $(command -v "$cmd")"
    else
        missing+=("$pkg")
    fi
done

if [ "${#missing[@]}" -eq 0 ]; then
    exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    sudo=(sudo -n)
fi

echo "ensure-deb: installing ${missing[*]}"
if ! "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" </dev/null; then
    echo "ensure-deb: install failed, refreshing package lists and retrying"
    "${sudo[@]}" apt-get update </dev/null
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
fi
