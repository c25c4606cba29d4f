#!/usr/bin/env bash
# Counts the instructions of every packet-path workload under callgrind: stable on a noisy,
# shared machine where wall-clock time is not.
#
# Builds the `bench_once` binary of weir-benches, then for each workload runs it under
# `valgrind --tool=callgrind`, collecting only inside the measured loop of N operations
# (`--toggle-collect`; preparation and warm-up are not counted), and prints Ir / N
# (instructions per operation) and, when the workload's throughput counts elements, Ir per
# element.
#
#   bash scripts/callgrind.sh            # every workload, N=1000
#   bash scripts/callgrind.sh fanout     # only names containing "fanout"
#   CALLGRIND_N=5000 bash scripts/callgrind.sh
#
# The table is also written to target/callgrind/summary.tsv, the raw profiles next to it
# (open one with callgrind_annotate).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${CALLGRIND_N:-1000}"
filter="${1:-}"
target="${CARGO_TARGET_DIR:-target}"
out="$target/callgrind"

if ! command -v valgrind >/dev/null 2>&1; then
    echo "callgrind.sh: valgrind is missing (apt-get install -y valgrind)" >&2
    exit 1
fi
cargo build --release -p weir-benches --bin bench_once
bin="$target/release/bench_once"
mkdir -p "$out"

summary="$out/summary.tsv"
printf 'workload\tN\tIr/op\tIr/element\tunit\n' >"$summary"
while IFS=$'\t' read -r name kind amount; do
    case "$name" in *"$filter"*) ;; *) continue ;; esac
    file="$out/${name//\//.}.callgrind"
    valgrind --tool=callgrind --collect-atstart=no \
        --toggle-collect='*weir_bench_measured_loop*' \
        --callgrind-out-file="$file" "$bin" run "$name" "$n" >/dev/null 2>"$file.log"
    ir=$(awk '/^summary:/ { print $2 }' "$file")
    awk -v name="$name" -v n="$n" -v ir="$ir" -v kind="$kind" -v amount="$amount" 'BEGIN {
        per_op = ir / n
        per_elem = (kind == "elements") ? sprintf("%.0f", per_op / amount) : ""
        unit = (kind == "elements") ? amount " elem/op" : amount " " kind "/op"
        printf "%s\t%d\t%.0f\t%s\t%s\n", name, n, per_op, per_elem, unit
    }' >>"$summary"
done < <("$bin" list)

column -t -s $'\t' "$summary"
