#!/bin/sh
# Before/after wall-clock check of the engine: alternates two builds of the
# mm10 bench (A B A B ...), each pinned to the same core, and prints the
# median time of one stampede run for each, and B / A.
#
#   cargo build --release --bench mm10 && cp "$(ls -t target/release/deps/mm10-* | grep -v '\.d$' | head -1)" /tmp/mm10-a
#   (change the code, build again, copy to /tmp/mm10-b)
#   benches/ab.sh /tmp/mm10-a /tmp/mm10-b 5
#
# Alternating matters: on this machine two runs of one binary minutes apart
# differ by up to 5%, more than most single changes gain.
set -eu
a=$1 b=$2 rounds=${3:-5}
pin=""
command -v taskset >/dev/null && pin="taskset -c 1"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
one() {
    # criterion's line: "mm10/stampede  time:   [low ms MID ms high ms]"
    $pin "$1" --bench --warm-up-time 1 --measurement-time 3 --noplot mm10/stampede 2>&1 |
        sed -n 's/^mm10\/stampede .*\[[0-9.]* ms \([0-9.]*\) ms.*/\1/p'
}
for _ in $(seq "$rounds"); do
    echo "A $(one "$a")" >>"$out"
    echo "B $(one "$b")" >>"$out"
done
median() { grep "^$1 " "$out" | cut -d' ' -f2 | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ma=$(median A) mb=$(median B)
echo "A: $(grep '^A ' "$out" | cut -d' ' -f2 | tr '\n' ' ')-> median $ma ms"
echo "B: $(grep '^B ' "$out" | cut -d' ' -f2 | tr '\n' ' ')-> median $mb ms"
awk -v a="$ma" -v b="$mb" 'BEGIN {printf "B / A = %.3f\n", b / a}'
