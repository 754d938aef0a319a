#!/bin/sh
# stampede load against wrk, both sending to the same minimal hyper server
# with 64 connections' worth of closed-loop clients, in one run: rounds of
# stampede, wrk, and a bare hyper client (the same requests with no model:
# what hyper alone reaches here), and each one's ratio to wrk, round by round.
#   benches/load/vs-wrk.sh [ROUNDS] [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
pairs=${1:-3}
secs=${2:-10}
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y wrk >/dev/null; }
cargo build --release --quiet --bin stampede --example minimal_hyper --example bare_hyper_client
./target/release/examples/minimal_hyper 127.0.0.1:18090 >/dev/null &
server=$!
out=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$out"' EXIT
n=0
until wrk -t1 -c1 -d1s http://127.0.0.1:18090/ 2>/dev/null | grep -q 'Requests/sec'; do
    n=$((n + 1))
    [ "$n" -lt 20 ] || { echo "the server never answered" >&2; exit 1; }
done
ours() {
    ./target/release/stampede load benches/load/closed.toml --target http://127.0.0.1:18090 \
        --set scenario.duration="${secs}s" --quiet --json - --out "$out/report" |
        python3 -c 'import json, sys; s = json.load(sys.stdin); print(round(s["attempts"]["total"] / s["engine"]["wall_seconds"]))'
}
theirs() { wrk -t2 -c64 -d"${secs}s" http://127.0.0.1:18090/hello | awk '/Requests\/sec/ {print $2}'; }
bare() { ./target/release/examples/bare_hyper_client 127.0.0.1:18090 64 2 "$secs"; }
ratio() { echo "$1 $2" | awk '{printf "%.2f", $1 / $2}'; }
i=0
while [ "$i" -lt "$pairs" ]; do
    a=$(ours)
    b=$(theirs)
    c=$(bare)
    echo "round $((i + 1)): stampede load $a req/s, wrk $b, bare hyper $c; stampede/wrk $(ratio "$a" "$b"), bare/wrk $(ratio "$c" "$b")"
    i=$((i + 1))
done
