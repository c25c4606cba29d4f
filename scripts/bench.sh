#!/usr/bin/env bash
# Runs weir's packet-path microbenchmarks (criterion, crate weir-benches) and prints a summary
# table: benchmark, median time per operation, time per element (when the throughput counts
# elements), and throughput, read from target/criterion/*/*/new/{estimates,benchmark}.json.
#
#   bash scripts/bench.sh                 # every bench (about 4 minutes)
#   bash scripts/bench.sh fanout          # criterion filter: only matching benchmarks
#   bash scripts/bench.sh --summary-only  # print the table of the last run, run nothing
#
# Other arguments go to criterion (e.g. --measurement-time 10). Wall-clock numbers depend on the
# machine's load: note `uptime` next to them. For load-independent figures use
# scripts/callgrind.sh (instructions per operation).
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"

if [ "${1:-}" = "--summary-only" ]; then
    shift
else
    echo "== load before: $(uptime)"
    cargo bench -p weir-benches -- "$@"
    echo "== load after: $(uptime)"
fi

python3 - "$target/criterion" <<'PY'
import json, pathlib, sys

root = pathlib.Path(sys.argv[1])
rows = []
for bench in sorted(root.glob("*/*/new/benchmark.json")):
    meta = json.loads(bench.read_text())
    est = json.loads((bench.parent / "estimates.json").read_text())
    median = est["median"]["point_estimate"]  # nanoseconds per operation
    tp = meta.get("throughput") or {}
    kind, amount = next(iter(tp.items()), (None, None))
    per_elem, rate = "", ""
    if kind == "Elements":
        per_elem = f"{median / amount:.1f} ns"
        rate = f"{amount / median * 1e3:.2f} Melem/s"
    elif kind in ("Bytes", "BytesDecimal"):
        rate = f"{amount / median * 1e9 / 2**20:.1f} MiB/s"
    rows.append((meta["full_id"], f"{median:.1f} ns", per_elem, rate))

if not rows:
    sys.exit(f"no criterion results under {root}")
header = ("benchmark", "median/op", "per element", "throughput")
widths = [max(len(r[i]) for r in rows + [header]) for i in range(4)]
def line(r):
    return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"
print(line(header))
print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
for r in rows:
    print(line(r))
PY
