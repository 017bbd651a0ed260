#!/usr/bin/env bash
# Runs a Windows program under Wine: `--config=windows` (.bazelrc) makes it the `--run_under`
# wrapper of every test (and of `bazel run`), so that a cross-built `.exe` runs as a Linux one
# would. The program's arguments are passed unchanged. A program that is not a Windows
# executable (a shell script test, which runs on the build machine) runs as it is.
#
# Environment:
#   PROCSPEC_WINEPREFIX  the Wine prefix (default ~/.wine-procspec; bazelw creates it once).
# What Wine needs that Bazel does not give:
#   - Windows paths. Wine maps the Linux root to drive Z:, and a Windows program takes a path
#     without a drive letter as relative: GoogleTest's XML file (GTEST_OUTPUT) and the temporary
#     directory (TMP, TEMP, TEST_TMPDIR) become Z:\... paths.
# Tests run one at a time (.bazelrc): the first Wine process of a prefix starts its wineserver,
# which Bazel ends with the rest of that test's processes when the test ends (a test running
# beside it would lose its server), and two tests starting a server at once left one hung.
set -euo pipefail

# A Windows (PE) executable starts with the DOS header's "MZ".
if [[ "$(head -c 2 "$1" 2>/dev/null)" != "MZ" ]]; then
  exec "$@"
fi

export WINEPREFIX="${PROCSPEC_WINEPREFIX:-${HOME:?HOME or PROCSPEC_WINEPREFIX must be set}/.wine-procspec}"
export WINEDEBUG=-all
# The console of a test is its log; no window system is needed.
export DISPLAY=''

if [[ ! -f "${WINEPREFIX}/system.reg" ]]; then
  echo "wine_test.sh: no Wine prefix at ${WINEPREFIX}: run ./bazelw with --config=windows once," \
    "or wineboot -i with that WINEPREFIX" >&2
  exit 1
fi

windows_path() {
  local path="$1"
  echo "Z:${path//\//\\}"
}

if [[ -n "${XML_OUTPUT_FILE:-}" ]]; then
  GTEST_OUTPUT="xml:$(windows_path "${XML_OUTPUT_FILE}")"
  export GTEST_OUTPUT
fi
if [[ -n "${TEST_TMPDIR:-}" ]]; then
  TMP="$(windows_path "${TEST_TMPDIR}")"
  # Tests build their files' paths from TEST_TMPDIR too (and pass them to
  # gtest's --gtest_output, which takes a path without a drive as relative).
  export TMP TEMP="${TMP}" TEST_TMPDIR="${TMP}"
fi

exec wine "$@"
