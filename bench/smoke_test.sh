#!/usr/bin/env bash
# The benchmark pipeline end to end at a tiny scale (not a measurement): process_bench, the
# CPython script and the report generator agree on names and formats, and every benchmark
# runs without an error.
set -euo pipefail
bench="$1"
minimal="$2"
cpython="$3"
report="$4"
out="${TEST_TMPDIR:-$(mktemp -d)}"

# Without the thousand children (CPython takes seconds for them): the other
# rows of the curve show that the pipeline handles it.
"${bench}" --minimal_floor="${minimal}" --iterations_scale=0.01 \
  --benchmark_filter='-start_join_1000|minimal_many_1000' --benchmark_repetitions=1 \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="${out}/procspec.json" --benchmark_out_format=json >/dev/null
python3 "${cpython}" --repetitions=1 --iterations_scale=0.01 --filter='^(?!start_join_1000)' >"${out}/cpython.json"
python3 "${report}" --procspec="${out}/procspec.json" --cpython="${out}/cpython.json" \
  --repetitions=1 >"${out}/RESULTS.md"

fail=0
for row in "start+join, fork" "start+join, fork (same-binary floor)" "start+join, spawn" \
  "start+join, forkserver" "join wake-up after the child's exit, fork" "terminate → join, fork" \
  "start+join of 10 children at once, fork" "start+join of 100 children at once, fork" \
  "Lock acquire+release, uncontended" \
  "Lock, two-process ping-pong (per round trip: two hand-overs)" \
  "Pipe round trip, 8-byte message" "Queue, small messages, parent → child (per message)" \
  "Queue throughput, 8 B items, parent → child (per item)" \
  "Queue throughput, 1 MiB items, parent → child (per item)"; do
  # A measured row has a ratio to its floor ("1.23×") and a ratio to CPython.
  if ! grep -F "| ${row} |" "${out}/RESULTS.md" | grep -qE "[0-9]\.[0-9]+×.*(faster|slower)"; then
    echo "row not measured: ${row}" >&2
    fail=1
  fi
done
if ((fail)); then
  cat "${out}/RESULTS.md" >&2
  exit 1
fi
echo "bench smoke test: all rows measured"
