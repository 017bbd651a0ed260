#!/usr/bin/env bash
# Fuzzes the decoders a started child runs on the bytes it receives (//fuzz) with libFuzzer, for a
# bounded time per target, and records the runs in conformance/records/fuzz.json (the report's
# Robustness section shows it).
#
#   tools/fuzz.sh [SECONDS_PER_TARGET]   # default 60
#   tools/fuzz.sh --seeds                # rewrites the seed corpus fuzz/corpus from real bootstraps
#
# Builds //fuzz:<target>_fuzzer with clang-14 -fsanitize=fuzzer,address,undefined (--config=fuzz,
# in an output base of its own), installing clang-14 and libclang-rt-14-dev when missing. Each
# target starts from its committed seeds (fuzz/corpus/<target>, never written to: new inputs go
# to a scratch corpus). A crash leaves its input in fuzz/regressions/<target>/ (replayed by
# //fuzz:corpus_replay_test once committed, with the fix) and makes the script exit non-zero.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
readonly targets=(spawn_bootstrap fork_server_request message)
readonly output_base="${HOME}/.cache/bazel/procspec-fuzz"

if [[ "${1:-}" == "--seeds" ]]; then
  ./bazelw build //fuzz:make_seed_corpus
  exec bazel-bin/fuzz/make_seed_corpus "${PWD}/fuzz/corpus"
fi
seconds="${1:-60}"
[[ "${seconds}" =~ ^[0-9]+$ ]] || { echo "usage: tools/fuzz.sh [SECONDS_PER_TARGET] | --seeds" >&2; exit 2; }

packages=(clang-14 libclang-rt-14-dev)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "${package}" 2>/dev/null | grep -qx installed ||
    missing+=("${package}")
done
if ((${#missing[@]} > 0)); then
  echo "fuzz.sh: installing ${missing[*]}" >&2
  sudo=()
  [[ "$(id -u)" == 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
fi

labels=()
for target in "${targets[@]}"; do labels+=("//fuzz:${target}_fuzzer"); done
# ./bazelw installs the build's own packages; the output base is this script's.
# No convenience symlinks: bazel-<dir> pointing into this output base would be walked by the
# workspace's own `//...`.
./bazelw --output_base="${output_base}" build --config=fuzz --symlink_prefix=/ "${labels[@]}"
bin="$(./bazelw --output_base="${output_base}" info --config=fuzz bazel-bin 2>/dev/null)"

scratch="$(mktemp -d)"
trap 'rm -rf "${scratch}"' EXIT
status=0
records=()
for target in "${targets[@]}"; do
  mkdir -p "${scratch}/${target}" "fuzz/regressions/${target}"
  log="${scratch}/${target}.log"
  echo "fuzz.sh: ${target} for ${seconds}s" >&2
  target_status=0
  # ASan may return null for a huge allocation (the decoder must survive bad_alloc); libFuzzer's
  # own limits (-rss_limit_mb, -malloc_limit_mb, -timeout) still report one as a crash.
  ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "${bin}/fuzz/${target}_fuzzer" -max_total_time="${seconds}" -timeout=10 \
    -rss_limit_mb=2048 -malloc_limit_mb=512 -print_final_stats=1 \
    -artifact_prefix="fuzz/regressions/${target}/" \
    "${scratch}/${target}" "fuzz/corpus/${target}" >"${log}" 2>&1 || target_status=$?
  runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "${log}" | grep -oE '[0-9]+$' || echo 0)
  coverage=$(grep -oE 'DONE +cov: [0-9]+' "${log}" | grep -oE '[0-9]+$' | tail -1 || true)
  if ((target_status != 0)); then
    status=1
    result=crash
    grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*Test unit written)' "${log}" | cut -c1-300 >&2
  else
    result=pass
  fi
  echo "fuzz.sh: ${target}: ${result}, ${runs} executions, coverage ${coverage:-?}" >&2
  records+=("{\"target\": \"${target}\", \"seconds\": ${seconds}, \"executions\": ${runs:-0}, \"coverage\": ${coverage:-0}, \"result\": \"${result}\"}")
done

# The tree that was fuzzed, named before the record (which dirties it) is written.
fuzzed_commit="$(git update-index -q --refresh >/dev/null 2>&1
  git describe --always --dirty 2>/dev/null || echo unknown)"
{
  echo "{"
  echo "  \"kind\": \"fuzz\","
  echo "  \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
  echo "  \"commit\": \"${fuzzed_commit}\","
  echo "  \"command\": \"tools/fuzz.sh ${seconds}\","
  echo "  \"build\": \"clang-14 -fsanitize=fuzzer,address,undefined\","
  echo "  \"targets\": ["
  for i in "${!records[@]}"; do
    sep=","; ((i == ${#records[@]} - 1)) && sep=""
    echo "    ${records[i]}${sep}"
  done
  echo "  ]"
  echo "}"
} >conformance/records/fuzz.json
echo "fuzz.sh: wrote conformance/records/fuzz.json" >&2
exit "${status}"
