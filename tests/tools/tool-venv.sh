#!/usr/bin/env bash
# A virtual environment for one tool set, apart from .venv: made, or made again, when its
# pins changed since it was last filled.
# Usage: tool-venv.sh PYTHON VENV REQUIREMENTS   (REQUIREMENTS may point at a constraints file with -c)
set -euo pipefail

if [ "$#" -ne 3 ] || [ ! -f "$3" ]; then
    echo "usage: $0 PYTHON VENV REQUIREMENTS (an existing requirements file)" >&2
    exit 2
fi
python=$1 venv=$2 reqs=$3
dir=$(dirname "$reqs")
stamp=$venv/.requirements.sha256
# The constraints beside the requirements count too, where there are any.
want=$({ cat "$reqs"; if [ -f "$dir/constraints.txt" ]; then cat "$dir/constraints.txt"; fi; } | sha256sum | cut -d' ' -f1)

if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "tool-venv: reusing $venv"
    exit 0
fi
echo "tool-venv: making $venv from ${reqs#"$PWD"/}"
rm -rf "$venv"
"$python" -m venv "$venv"
(cd "$dir" && PIP_NO_INPUT=1 "$venv/bin/python" -m pip install --quiet --no-input --progress-bar off -r "$reqs")
"$venv/bin/python" -m pip check
echo "$want" > "$stamp"
