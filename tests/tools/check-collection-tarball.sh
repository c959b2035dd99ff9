#!/usr/bin/env bash
# Fail when a built collection tarball holds files that must not ship:
# virtual environments, build and test output, caches, VCS data, tarballs,
# and the development-only trees (Molecule scenarios, the lab, test tools).
# Usage: check-collection-tarball.sh TARBALL
set -euo pipefail

if [ "$#" -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 TARBALL (an existing collection tarball)" >&2
    exit 2
fi

tarball=$1
forbidden='^(\./)?(\.venv|build|tests/output|\.git|\.cache|\.ansible|\.ci|reports|\.pytest_cache|molecule|tests/(lab|report|tools|ee|matrix|docs|galaxy-importer))(/|$)|(^|/)__pycache__(/|$)|\.pyc$|\.tar\.gz$'

listing=$(tar -tzf "$tarball")
count=$(printf '%s\n' "$listing" | wc -l)
bad=$(printf '%s\n' "$listing" | grep -E "$forbidden" || true)

if [ -n "$bad" ]; then
    echo "check-collection-tarball: $tarball contains paths that must not ship:" >&2
    printf '%s\n' "$bad" | head -n 50 >&2
    echo "check-collection-tarball: add them to build_ignore in galaxy.yml" >&2
    exit 1
fi

for required in MANIFEST.json FILES.json; do
    # A here-string, not a pipe: grep -q leaves at its first match, and printf's broken pipe would count
    # as a failure under pipefail.
    if ! grep -qE "^(\./)?$required\$" <<<"$listing"; then
        echo "check-collection-tarball: $tarball has no $required" >&2
        exit 1
    fi
done

echo "check-collection-tarball: $tarball is clean ($count entries)"
