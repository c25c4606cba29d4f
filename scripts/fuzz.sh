#!/usr/bin/env bash
# Runs every cargo-fuzz target of weir-core for FUZZ_SECONDS each (default 60).
# cargo-fuzz needs nightly-only rustc flags; RUSTC_BOOTSTRAP=1 lets the stable toolchain accept
# them (no other toolchain can be installed on the project's machines).
set -euo pipefail
cd "$(dirname "$0")/../core/fuzz"
secs="${FUZZ_SECONDS:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
[ "$secs" -gt 0 ] || exit 0
for t in $(cargo fuzz list); do
  echo "== fuzz $t for ${secs}s"
  mkdir -p "corpus/$t"
  # A crash makes libFuzzer exit non-zero (and pipefail carries it): the run fails.
  cargo fuzz run -O "$t" "corpus/$t" -- -max_total_time="$secs" -rss_limit_mb=2048 -max_len=65536 2>&1 | tail -n 3
done
