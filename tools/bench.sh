#!/usr/bin/env bash
# tools/bench.sh: procspec's benchmarks against the physical floor and against CPython, as one
# Markdown table in bench/RESULTS.md (raw results in bench/results/).
#
#   tools/bench.sh [--repetitions=N] [--iterations_scale=F] [--suite] [--rt]
#
#   --repetitions=N       repetitions of every benchmark (default 10), interleaved at random
#   --iterations_scale=F  scales every iteration count (default 1; 0.1 for a quick look)
#   --suite               also times `./bazelw test //... --cache_test_results=no` with the
#                         build cached (it builds //... first, untimed), with --jobs=$(nproc)
#   --rt                  runs both benchmark programs under SCHED_FIFO (chrt -f 10; root), so
#                         that other jobs on a shared machine delay them less; process_bench then
#                         runs a second time under normal scheduling, for an extra ratio column
#
# Builds //bench:process_bench with -c opt (through ./bazelw, which installs what is missing),
# runs it and bench/cpython_bench.py (python3) with the same counts, then bench/report.py.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

repetitions=10
scale=1
suite=0
rt=0
for arg in "$@"; do
  case "${arg}" in
    --repetitions=*) repetitions="${arg#*=}" ;;
    --iterations_scale=*) scale="${arg#*=}" ;;
    --suite) suite=1 ;;
    --rt) rt=1 ;;
    *) echo "tools/bench.sh: unknown argument ${arg}" >&2; exit 2 ;;
  esac
done

results=bench/results
mkdir -p "${results}"
prefix=()
priority="normal (SCHED_OTHER)"
if ((rt)); then
  prefix=(chrt -f 10)
  priority="SCHED_FIFO priority 10 (chrt -f 10) for the benchmark programs and their children"
fi

./bazelw build -c opt //bench:process_bench //bench:minimal_floor
bin="$(./bazelw info -c opt bazel-bin 2>/dev/null)/bench/process_bench"

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools/bench.sh: procspec (${repetitions} repetitions)" >&2
"${prefix[@]}" "${bin}" \
  --iterations_scale="${scale}" \
  --benchmark_repetitions="${repetitions}" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_out="${results}/procspec.json" --benchmark_out_format=json >&2
if ((rt)); then
  echo "tools/bench.sh: procspec again, normal scheduling" >&2
  "${bin}" \
    --iterations_scale="${scale}" \
    --benchmark_repetitions="${repetitions}" \
    --benchmark_enable_random_interleaving=true \
    --benchmark_out="${results}/procspec_normal.json" --benchmark_out_format=json >&2
else
  rm -f "${results}/procspec_normal.json"
fi
echo "tools/bench.sh: CPython (${repetitions} repetitions)" >&2
"${prefix[@]}" python3 bench/cpython_bench.py \
  --repetitions="${repetitions}" --iterations_scale="${scale}" >"${results}/cpython.json"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

suite_seconds=""
suite_tests=""
if ((suite)); then
  # --jobs as in a clean clone (a user.bazelrc may lower it on a shared machine).
  jobs=(--jobs="$(nproc)")
  ./bazelw build "${jobs[@]}" //...
  start=$(date +%s.%N)
  ./bazelw test "${jobs[@]}" //... --cache_test_results=no 2>&1 | tee "${results}/suite.log" >&2
  end=$(date +%s.%N)
  suite_seconds=$(python3 -c "print(${end} - ${start})")
  suite_tests=$(grep -oE 'Executed [0-9]+ out of [0-9]+ tests?: .*' "${results}/suite.log" | tail -1 || true)
fi

python3 bench/report.py \
  --procspec="${results}/procspec.json" --cpython="${results}/cpython.json" \
  --procspec_normal="${results}/procspec_normal.json" \
  --load_before="${load_before}" --load_after="${load_after}" \
  --repetitions="${repetitions}" --priority="${priority}" \
  --suite_seconds="${suite_seconds}" --suite_tests="${suite_tests}" \
  --analysis=bench/ANALYSIS.md >bench/RESULTS.md
echo "tools/bench.sh: wrote bench/RESULTS.md" >&2
