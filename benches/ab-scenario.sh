#!/bin/sh
# Before/after check of the engine on a whole scenario: alternates two
# stampede binaries (A B A B ...), each pinned to the same core, and prints
# the median engine time (summary.json's engine.wall_seconds) of each, and B / A.
#
#   cargo build --release && cp target/release/stampede /tmp/stampede-a
#   (change the code, build again, copy to /tmp/stampede-b)
#   benches/ab-scenario.sh /tmp/stampede-a /tmp/stampede-b scenarios/playground-img2img.toml 11
#
# Alternating matters for the same reason as in benches/ab.sh: two runs of
# one binary minutes apart differ by more than most single changes gain.
set -eu
a=$1 b=$2 scenario=$3 rounds=${4:-11}
pin=""
command -v taskset >/dev/null && pin="taskset -c 1"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
one() {
    rm -rf "$dir/run"
    # Exit status 1 only says the scenario's criteria failed; the run is whole.
    $pin "$1" run "$scenario" --out "$dir/run" >/dev/null 2>&1 || [ $? -eq 1 ]
    # "wall_seconds": 0.0161, in milliseconds.
    sed -n 's/.*"wall_seconds": *\([0-9.e-]*\).*/\1/p' "$dir/run/summary.json" | head -1 | awk '{printf "%.2f\n", $1 * 1000}'
}
for _ in $(seq "$rounds"); do
    echo "A $(one "$a")" >>"$dir/times"
    echo "B $(one "$b")" >>"$dir/times"
done
median() { grep "^$1 " "$dir/times" | cut -d' ' -f2 | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ma=$(median A) mb=$(median B)
echo "A: $(grep '^A ' "$dir/times" | cut -d' ' -f2 | tr '\n' ' ')-> median $ma ms"
echo "B: $(grep '^B ' "$dir/times" | cut -d' ' -f2 | tr '\n' ' ')-> median $mb ms"
echo "B / A = $(echo "$mb $ma" | awk '{printf "%.3f", $1 / $2}')"
