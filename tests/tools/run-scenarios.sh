#!/usr/bin/env bash
# Molecule scenarios, JOBS at a time; each one's output is printed whole when it ends (never
# interleaved), with its time; the summary names the failures.
# Usage: run-scenarios.sh JOBS LOGDIR SCENARIO...   (molecule and its environment from the caller)
set -uo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 JOBS LOGDIR SCENARIO..." >&2
    exit 2
fi
jobs=$1 logdir=$2
shift 2
rm -rf "$logdir" && mkdir -p "$logdir"

one() {
    local s=$1 logdir=$2 start rc
    start=$(date +%s)
    molecule test -s "$s" </dev/null >"$logdir/$s.log" 2>&1
    rc=$?
    echo "$rc $(( $(date +%s) - start ))" >"$logdir/$s.result"
    {
        flock 9
        cat "$logdir/$s.log"
        if [ "$rc" -eq 0 ]; then echo "molecule: $s passed in $(cut -d' ' -f2 "$logdir/$s.result")s"
        else echo "molecule: $s FAILED (exit $rc) after $(cut -d' ' -f2 "$logdir/$s.result")s"; fi
    } 9>"$logdir/.print.lock"
}
export -f one

# shellcheck disable=SC2016 # $1 and $2 are the inner shell's arguments, expanded there
printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'one "$1" "$2"' _ {} "$logdir"

failed=
for s in "$@"; do
    read -r rc secs <"$logdir/$s.result" 2>/dev/null || rc=missing secs=-
    printf 'molecule: %-10s %s %ss\n' "$s" "$([ "$rc" = 0 ] && echo passed || echo "FAILED ($rc)")" "$secs"
    [ "$rc" = 0 ] || failed="$failed $s"
done
if [ -n "$failed" ]; then echo "molecule: FAILED:$failed" >&2; exit 1; fi
