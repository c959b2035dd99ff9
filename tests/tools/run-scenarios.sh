#!/usr/bin/env bash
# Molecule scenarios in lanes side by side, each lane's scenarios one after the other; each one's
# output is printed whole when it ends (never interleaved), with its time; the summary names the
# failures.
# Usage: run-scenarios.sh LOGDIR LANE...   (a LANE: scenarios separated by commas; molecule and its
# environment from the caller)
set -uo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 LOGDIR LANE... (a lane: scenario,scenario,...)" >&2
    exit 2
fi
logdir=$1
shift
rm -rf "$logdir" && mkdir -p "$logdir"

one() {
    local s=$1 start rc
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

all=()
for lane in "$@"; do
    IFS=, read -r -a scenarios <<<"$lane"
    all+=("${scenarios[@]}")
    ( for s in "${scenarios[@]}"; do one "$s"; done ) &
done
wait

failed=
for s in "${all[@]}"; do
    read -r rc secs <"$logdir/$s.result" 2>/dev/null || { rc=missing; secs=-; }
    printf 'molecule: %-10s %s %ss\n' "$s" "$([ "$rc" = 0 ] && echo passed || echo "FAILED ($rc)")" "$secs"
    [ "$rc" = 0 ] || failed="$failed $s"
done
if [ -n "$failed" ]; then echo "molecule: FAILED:$failed" >&2; exit 1; fi
