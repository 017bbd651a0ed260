#!/usr/bin/env bash
# `./bazelw run //conformance:ports_report [-- flags]`: the conformance suite on every host this
# machine can run, as one report: report/ports.{md,json,html}, one column per
# host x backend x start method, in the native report's format. Each lane runs each suite binary
# under supervision (a deadline per test; see conformance/harness/supervisor.h), which writes a
# results file; the merge step (conformance/reporting/ports_main.cc) makes the report.
#
# Lanes (a lane whose tools are missing is listed as "not run" with the reason):
#   native        the suites as built, on this machine
#   gvisor        the same binaries under gVisor (runsc do), gVisor's own implementation of Linux
#   qemu_aarch64  cross-built with --config=aarch64, run under qemu-aarch64-static
#   wine          //conformance:suite_windows_spawn built with --config=windows, run under Wine
#
# Flags:
#   --lanes="native gvisor"   which lanes to run (default: all four)
#   --results=<file>          a results file made elsewhere, as an extra column (repeatable)
#   --baseline=<file>         list every clause whose outcome differs from this results file or
#                             earlier ports.json / conformance.json
#   --test_deadline=<s>       per test (default 120 s; a hang costs this much)
#   --suites="suite_linux_fork suite_posix_fork"
#                             only these suite binaries (default: every one)
#   --require_lanes           a lane that cannot run fails the report (CI: a missing runsc must
#                             not pass silently)
set -uo pipefail

workspace="${BUILD_WORKSPACE_DIRECTORY:-${PWD}}"
output="${workspace}/report"
results_dir="${output}/ports-results"
logs="${output}/logs/ports"
mkdir -p "${results_dir}" "${logs}"
rm -f "${results_dir}"/*.json

lanes="native gvisor qemu_aarch64 wine"
deadline=120
suites=""
require_lanes=false
merge_flags=()
while (($# > 0)); do
  case "$1" in
    --lanes=*) lanes="${1#--lanes=}" ;;
    --test_deadline=*) deadline="${1#--test_deadline=}" ;;
    --suites=*) suites="${1#--suites=}" ;;
    --require_lanes) require_lanes=true ;;
    --results=* | --baseline=*)
      flag="${1%%=*}"
      path="${1#*=}"
      [[ "${path}" = /* ]] || path="${workspace}/${path}"
      merge_flags+=("${flag}=${path}")
      ;;
    *)
      echo "ports report: unknown argument '$1'" >&2
      exit 2
      ;;
  esac
  shift
done

here="${PWD}"  # the runfiles tree
registry="${here}/conformance/clauses.json"
merge_flags+=("--registry=${registry}" "--output_dir=${output}")
for host_file in "${here}"/conformance/hosts/*.json; do
  host="$(basename "${host_file}" .json)"
  merge_flags+=("--host_expectations=${host}=${host_file}")
done

lanes_missing=0
not_run() {
  echo "ports report: lane $1 not run: $2" >&2
  merge_flags+=("--not_run=$1=$2")
  lanes_missing=$((lanes_missing + 1))
}

# Whether $1 is a suite binary (not one of Bazel's files beside it) and among --suites (all
# when none is named).
wanted() {
  local name
  name="$(basename "$1" .exe)"
  [[ -f "$1" && -x "$1" && "${name}" =~ ^suite_[a-z0-9]+_[a-z]+$ ]] &&
    [[ -z "${suites}" || " ${suites} " == *" ${name} "* ]]
}

# The suite binaries in the runfiles: conformance/suite_<backend>_<method>.
native_suites=()
for binary in "${here}"/conformance/suite_*_*; do
  if wanted "${binary}"; then native_suites+=("${binary}"); fi
done

# run_suite <host> <binary> [<runner...> [--child_runner=...]]: the binary with its manifests,
# under supervision. The results file goes to standard output (a sandbox's own writes may never
# reach the host).
run_suite() {
  local host="$1" binary="$2"
  shift 2
  local runner=() suite_flags=()
  for arg in "$@"; do
    if [[ "${arg}" == --child_runner=* ]]; then suite_flags+=("${arg}"); else runner+=("${arg}"); fi
  done
  local name backend method
  name="$(basename "${binary}" .exe)"
  backend="$(cut -d_ -f2 <<<"${name}")"
  method="$(cut -d_ -f3 <<<"${name}")"
  local json="${results_dir}/${host}_${backend}_${method}.json"
  local log="${logs}/${host}_${backend}_${method}.log"
  local start=${SECONDS}
  "${runner[@]}" "${binary}" "${suite_flags[@]}" "--backend=${backend}" "--start_method=${method}" \
    "--capabilities=${here}/platform/${backend}/capabilities.json" \
    "--expectations=${here}/platform/${backend}/expectations.json" \
    "--registry=${registry}" "--results_file=-" "--host_label=${host}" \
    "--test_deadline=${deadline}" >"${json}" 2>"${log}"
  local code=$?
  echo "ports report: ${host}/${backend}/${method}: exit code ${code} in $((SECONDS - start)) s;" \
    "$(tail -n 1 "${log}")" >&2
  if [[ -s "${json}" ]]; then
    merge_flags+=("--results=${json}")
  else
    not_run "${host}/${backend}/${method}" "the suite wrote no results (exit code ${code}; see ${log})"
  fi
}

for lane in ${lanes}; do
  case "${lane}" in
    native)
      for binary in "${native_suites[@]}"; do run_suite native "${binary}"; done
      ;;
    gvisor)
      runsc=(runsc --rootless --network=none --ignore-cgroups do)
      if ! command -v runsc >/dev/null; then
        not_run gvisor "runsc is not installed (apt-get install runsc)"
      elif ! probe="$("${runsc[@]}" true 2>&1)"; then
        not_run gvisor "runsc cannot start a sandbox here: ${probe//$'\n'/ }"
      else
        # gVisor's fork costs about 10 times the host's: timeouts in tests scale.
        for binary in "${native_suites[@]}"; do
          PROCSPEC_TIMEOUT_SCALE=4 run_suite gvisor "${binary}" "${runsc[@]}"
        done
      fi
      ;;
    qemu_aarch64)
      if ! command -v qemu-aarch64-static >/dev/null; then
        not_run qemu_aarch64 "qemu-aarch64-static is not installed (apt-get install qemu-user-static)"
      elif ! grep -q '^build:aarch64' "${workspace}/.bazelrc"; then
        not_run qemu_aarch64 "this checkout has no --config=aarch64 (cross toolchain for aarch64-linux-gnu-g++ with arm64 abseil) yet"
      elif ! (cd "${workspace}" && ./bazelw build --config=aarch64 --symlink_prefix=/ //conformance:suite \
        >"${logs}/qemu_aarch64_build.log" 2>&1); then
        not_run qemu_aarch64 "the aarch64 build failed: see ${logs}/qemu_aarch64_build.log"
      else
        bin="$(cd "${workspace}" && ./bazelw info --config=aarch64 bazel-bin 2>/dev/null)"
        # The kernel runs an aarch64 program itself only through a binfmt_misc entry for
        # qemu. Without one, the spawn and forkserver start methods (which re-run the suite)
        # cannot start a child at all: those columns are not run. The suite's test children
        # are started under qemu explicitly (--child_runner) either way.
        binfmt=false
        if grep -qs '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64; then binfmt=true; fi
        for binary in "${bin}"/conformance/suite_*_*; do
          wanted "${binary}" || continue
          if [[ "${binfmt}" == false && "${binary}" != *_fork ]]; then
            not_run "qemu_aarch64/$(basename "${binary}" | cut -d_ -f2- | tr _ /)" \
              "binfmt_misc has no enabled qemu-aarch64 entry (/proc/sys/fs/binfmt_misc/qemu-aarch64): the suite cannot re-run itself as this start method needs"
            continue
          fi
          PROCSPEC_TIMEOUT_SCALE=10 run_suite qemu_aarch64 "${binary}" \
            qemu-aarch64-static --child_runner="$(command -v qemu-aarch64-static)"
        done
      fi
      ;;
    wine)
      if ! grep -q '^build:windows' "${workspace}/.bazelrc"; then
        not_run wine/windows/spawn "this checkout has no --config=windows (the mingw toolchain) yet"
      elif ! command -v wine >/dev/null; then
        not_run wine/windows/spawn "wine is not installed (apt-get install wine64 wine)"
      elif ! (cd "${workspace}" && ./bazelw build --config=windows --symlink_prefix=/ \
        //conformance:suite_windows_spawn >"${logs}/wine_build.log" 2>&1); then
        not_run wine/windows/spawn "the Windows build failed: see ${logs}/wine_build.log"
      else
        bin="$(cd "${workspace}" && ./bazelw info --config=windows bazel-bin 2>/dev/null)"
        binary="${bin}/conformance/suite_windows_spawn.exe"
        # The prefix the Windows tests use (tools/wine/wine_test.sh), made on first use. No
        # window system; Wine's own debug channels would bury the suite's log.
        export WINEPREFIX="${PROCSPEC_WINEPREFIX:-${HOME}/.wine-procspec}" WINEDEBUG=-all DISPLAY=''
        if [[ ! -f "${WINEPREFIX}/system.reg" ]] &&
          ! wineboot -i >"${logs}/wine_boot.log" 2>&1; then
          not_run wine/windows/spawn "wineboot could not make the Wine prefix ${WINEPREFIX}: see ${logs}/wine_boot.log"
        elif wanted "${binary}"; then
          # A process start under Wine takes tens of milliseconds: timeouts in tests scale.
          # The suite finds its example programs in its own runfiles (the .exe files), not in
          # this script's, where the Linux builds are.
          PROCSPEC_TIMEOUT_SCALE=4 run_suite wine "${binary}" \
            env -u TEST_SRCDIR RUNFILES_DIR="${binary}.runfiles" wine
        fi
      fi
      ;;
    *) not_run "${lane}" "unknown lane" ;;
  esac
done

"${here}/conformance/reporting/ports_main" "${merge_flags[@]}"
code=$?
if [[ "${require_lanes}" == true ]] && ((lanes_missing > 0)); then
  echo "ports report: ${lanes_missing} lane(s) or column(s) did not run (--require_lanes)" >&2
  ((code == 0)) && code=1
fi
exit "${code}"
