#!/usr/bin/env bash
# Runs a Windows program under Wine: `--config=windows` (.bazelrc) makes it the `--run_under`
# wrapper of every test (and of `bazel run`), so that a cross-built `.exe` runs as a Linux one
# would. The program's arguments are passed unchanged.
#
# Environment:
#   PROCSPEC_WINEPREFIX  the Wine prefix (default ~/.wine-procspec; bazelw creates it once).
# What Wine needs that Bazel does not give:
#   - Windows paths. Wine maps the Linux root to drive Z:, and a Windows program takes a path
#     without a drive letter as relative: GoogleTest's XML file (GTEST_OUTPUT) and the temporary
#     directory (TMP, TEMP) become Z:\... paths.
#   - One wineserver for all tests. The first Wine process of a prefix starts a wineserver;
#     tests starting at the same moment raced to start one and a test hung for minutes. A
#     persistent server (`wineserver -p`) is started under a lock before the test runs, so
#     tests can run in parallel.
set -euo pipefail

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
  export TMP TEMP="${TMP}"
fi

# `wineserver -p60` starts a server that stays for 60 s after the last Wine process exits, so
# that the tests of one run share it; it exits with status 2 when the prefix already has a
# server, which is the usual case. The lock keeps two first tests from racing.
(
  flock 9
  wineserver -p60 || (($? == 2))
) 9>"${WINEPREFIX}/.procspec-wineserver.lock"

exec wine "$@"
