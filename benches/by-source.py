#!/usr/bin/env python3
"""Instructions by the project's source file, inlining seen through.

Callgrind names a function; with the hot path inlined into a few big ones,
that says little. This reads a callgrind profile taken with --dump-instr=yes,
asks addr2line for each instruction's inline chain, and charges the
instruction to the innermost frame in the project's own src/ (std and crate
code inlined into a helper counts for that helper). Divides by --per.

  cargo bench --bench mm10 --no-run   # prints the binary's path
  valgrind --tool=callgrind --dump-instr=yes --callgrind-out-file=cg.out \\
      --toggle-collect='stampede::engine::simulate' target/release/deps/mm10-HASH
  benches/by-source.py cg.out target/release/deps/mm10-HASH --per 2002500
  benches/by-source.py cg.out BIN --per 2002500 --detail src/arena.rs

The mm10 binary runs stampede twice on 1,001,250 customers, hence 2002500.
--detail FILE lists FILE's lines with the project frame that inlined them.
"""
import argparse
import collections
import os
import re
import subprocess

ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
ap.add_argument("profile")
ap.add_argument("binary")
ap.add_argument("--per", type=float, default=1.0, help="divide every count by this (e.g. customers)")
ap.add_argument("--detail", help="a source file (e.g. src/arena.rs) to list by line and inliner")
ap.add_argument("--top", type=int, default=40)
args = ap.parse_args()
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
binary = os.path.basename(args.binary)

costs = collections.Counter()  # instruction address -> Ir, in the binary
other = collections.Counter()  # other objects (libc, libm) -> Ir
names, ob, addr, skip = {}, None, 0, False
for line in open(args.profile):
    line = line.rstrip("\n")
    if not line:
        continue
    if line.startswith(("ob=", "cob=")):
        m = re.match(r"c?ob=\((\d+)\)(?: (.*))?", line)
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        if line.startswith("ob="):
            ob = names.get(m.group(1))
        continue
    if line.startswith("calls="):
        skip = True  # the next cost line is the call's inclusive cost
        continue
    if line[0] not in "0123456789+-*":
        continue
    parts = line.split()
    a = parts[0]
    if a.startswith("0x"):
        addr = int(a, 16)
    elif a[0] in "+-":
        step = int(a[1:], 0)
        addr += step if a[0] == "+" else -step
    elif a != "*":
        addr = int(a)
    if skip:
        skip = False
        continue
    if len(parts) >= 3:
        if ob and os.path.basename(ob) == binary:
            costs[addr] += int(parts[2])
        else:
            other[os.path.basename(ob or "?")] += int(parts[2])

addrs = sorted(costs)
out = subprocess.run(["addr2line", "-i", "-a", "-e", args.binary], input="\n".join(map(hex, addrs)),
                     capture_output=True, text=True, check=True).stdout
chains, cur = {}, None
for l in out.splitlines():
    if l.startswith("0x"):
        cur = int(l, 16)
        chains[cur] = []
    else:
        chains[cur].append(l.split(" ")[0])  # file:line, innermost first


def ours(frame):
    f = frame.split(":")[0]
    return f.startswith(root + "src/") or f.startswith(root + "benches/")


by = collections.Counter()
detail = collections.Counter()
for a in addrs:
    own = [f[len(root):] for f in chains.get(a, []) if ours(f)]
    by[own[0].split(":")[0] if own else "(outside src/)"] += costs[a]
    if args.detail and own and own[0].split(":")[0] == args.detail:
        outer = next((f for f in own[1:] if f.split(":")[0] != args.detail), "-")
        detail[(own[0], outer)] += costs[a]
for o, v in other.items():
    by[o] += v
for k, v in by.most_common(args.top):
    print(f"{v / args.per:9.1f}  {k}")
print(f"{sum(by.values()) / args.per:9.1f}  total")
if args.detail:
    print()
    for (k, o), v in detail.most_common(args.top):
        print(f"{v / args.per:9.1f}  {k:32} in {o}")
