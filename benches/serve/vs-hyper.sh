#!/bin/sh
# serve backend against a minimal hyper server, both driven by wrk in one run:
# pairs A B A B ... and the ratio of their requests per second, pair by pair.
#   benches/serve/vs-hyper.sh [PAIRS] [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
pairs=${1:-3}
secs=${2:-10}
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
cargo build --release --quiet --bin stampede --example minimal_hyper
./target/release/stampede serve backend benches/serve/trivial.toml --listen 127.0.0.1:18080 >/dev/null &
ours=$!
./target/release/examples/minimal_hyper 127.0.0.1:18090 >/dev/null &
theirs=$!
trap 'kill $ours $theirs 2>/dev/null' EXIT
# Wait until both answer (and stop if one does not start).
for url in http://127.0.0.1:18081/health http://127.0.0.1:18090/; do
    n=0
    until wrk -t1 -c1 -d1s "$url" 2>/dev/null | grep -q 'Requests/sec'; do
        n=$((n + 1))
        [ "$n" -lt 20 ] || { echo "$url never answered" >&2; exit 1; }
    done
done
rps() { wrk -t2 -c64 -d"${secs}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
i=0
while [ "$i" -lt "$pairs" ]; do
    a=$(rps http://127.0.0.1:18081/hello)
    b=$(rps http://127.0.0.1:18090/hello)
    echo "pair $((i + 1)): serve backend $a req/s, minimal hyper $b req/s, ratio $(echo "$a $b" | awk '{printf "%.2f", $1 / $2}')"
    i=$((i + 1))
done
