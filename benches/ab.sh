#!/bin/sh
# Before/after wall-clock check of the engine: alternates two builds of the
# mm10 bench (A B A B ...), each pinned to the same core, and prints the
# median time of one stampede run for each, and B / A.
#
#   cargo build --release --bench mm10 && cp "$(ls -t target/release/deps/mm10-* | grep -v '\.d$' | head -1)" /tmp/mm10-a
#   (change the code, build again, copy to /tmp/mm10-b)
#   benches/ab.sh /tmp/mm10-a /tmp/mm10-b 5
set -eu
. "$(dirname "$0")/ab-alternate.sh"
one() {
    # criterion's line: "mm10/stampede  time:   [low ms MID ms high ms]"
    $pin "$1" --bench --warm-up-time 1 --measurement-time 3 --noplot mm10/stampede 2>&1 |
        sed -n 's/^mm10\/stampede .*\[[0-9.]* ms \([0-9.]*\) ms.*/\1/p'
}
alternate "$1" "$2" "${3:-5}"
