# Sourced by benches/ab.sh and benches/ab-scenario.sh: runs the caller's
# `one BINARY` (which prints one time in ms) for A and B in turn, `rounds`
# times, and prints each side's times, medians and B / A.
#
# Alternating matters: on this machine two runs of one binary minutes apart
# differ by up to 5%, more than most single changes gain.
pin=""
command -v taskset >/dev/null && pin="taskset -c 1"
alternate() {
    times=$(mktemp)
    for _ in $(seq "$3"); do
        echo "A $(one "$1")" >>"$times"
        echo "B $(one "$2")" >>"$times"
    done
    median() { grep "^$1 " "$times" | cut -d' ' -f2 | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
    ma=$(median A) mb=$(median B)
    echo "A: $(grep '^A ' "$times" | cut -d' ' -f2 | tr '\n' ' ')-> median $ma ms"
    echo "B: $(grep '^B ' "$times" | cut -d' ' -f2 | tr '\n' ' ')-> median $mb ms"
    awk -v a="$ma" -v b="$mb" 'BEGIN {printf "B / A = %.3f\n", b / a}'
    rm -f "$times"
}
