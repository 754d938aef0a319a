#!/bin/sh
# Before/after check of the engine on a whole scenario: alternates two
# stampede binaries (A B A B ...), each pinned to the same core, and prints
# the median engine time (summary.json's engine.wall_seconds) of each, and B / A.
#
#   cargo build --release && cp target/release/stampede /tmp/stampede-a
#   (change the code, build again, copy to /tmp/stampede-b)
#   benches/ab-scenario.sh /tmp/stampede-a /tmp/stampede-b scenarios/playground-img2img.toml 11
set -eu
. "$(dirname "$0")/ab-alternate.sh"
scenario=$3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
one() {
    rm -rf "$dir/run"
    # Exit status 1 only says the scenario's criteria failed; the run is whole.
    $pin "$1" run "$scenario" --out "$dir/run" >/dev/null 2>&1 || [ $? -eq 1 ]
    # "wall_seconds": 0.0161, in milliseconds.
    sed -n 's/.*"wall_seconds": *\([0-9.e-]*\).*/\1/p' "$dir/run/summary.json" | head -1 | awk '{printf "%.2f\n", $1 * 1000}'
}
alternate "$1" "$2" "${4:-11}"
