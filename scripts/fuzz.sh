#!/usr/bin/env bash
# Fuzzes every target in fuzz/ for a bounded time (default 60 s each) with AddressSanitizer,
# starting from the committed seed corpora and dictionaries; fails on any crash, leak,
# timeout or allocation above 2 GiB. Crash inputs land in fuzz/artifacts/<target>/: commit
# them once fixed, and `cargo test` (crates/core/tests/fuzz_corpus.rs) replays them forever.
# The stable toolchain runs cargo-fuzz with RUSTC_BOOTSTRAP=1; nothing downloads a toolchain.
#
# Usage: bash scripts/fuzz.sh [seconds per target] [target ...]
#   FUZZ_STATS=file  append "target executions coverage" lines to this file
#   FUZZ_SANITIZER=none  build without AddressSanitizer (about 6x the executions per second,
#                        for long volume runs; panics, timeouts and huge allocations still count)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
secs="${1:-60}"; shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=($(sed -n 's/^name = "\(.*\)"$/\1/p' fuzz/Cargo.toml | grep -v '^mmnpy-fuzz$'))

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz from crates.io"
  cargo install --locked cargo-fuzz >/dev/null
fi
export RUSTC_BOOTSTRAP=1
status=0
for t in "${targets[@]}"; do
  work=$(mktemp -d)
  cp -r "fuzz/corpus/$t/." "$work/"
  dict=()
  [ -f "fuzz/dict/$t.dict" ] && dict=("-dict=fuzz/dict/$t.dict")
  [ "$t" = npy_header ] && dict=("-dict=fuzz/dict/npy.dict")
  echo "fuzz: $t for ${secs}s"
  log="$work.log"
  san=()
  [ -n "${FUZZ_SANITIZER:-}" ] && san=(-s "$FUZZ_SANITIZER")
  if cargo fuzz run "${san[@]}" --fuzz-dir fuzz "$t" "$work" -- "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 -malloc_limit_mb=2048 -timeout=10 >"$log" 2>&1; then
    line=$(grep -a -E '^#[0-9]+.*DONE' "$log" | tail -n 1 || true)
    [ -z "$line" ] && line=$(grep -a -E '^#[0-9]+' "$log" | tail -n 1 || true)
    echo "fuzz: $t ok: $line"
    execs=$(printf '%s' "$line" | sed -n 's/^#\([0-9]*\).*/\1/p'); cov=$(printf '%s' "$line" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
    [ -n "${FUZZ_STATS:-}" ] && echo "$t ${execs:-?} ${cov:-?}" >>"$FUZZ_STATS"
  else
    echo "fuzz: $t FAILED (input saved under fuzz/artifacts/$t/):"
    tail -n 40 "$log"
    status=1
  fi
  rm -rf "$work" "$log"
done
exit $status
