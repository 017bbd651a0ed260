#!/usr/bin/env bash
# Proves that the root of platform/ (the contract every OS shares) names no operating system.
#
# Usage: root_is_os_neutral_test.sh FILE...
# Each FILE (platform/*.h, platform/*.cc, platform/internal/*) may include only:
#   - the C++ standard library, by its C++ names (<cstring>, not <string.h>: on a POSIX system
#     the C names also declare the OS's extensions, such as strerror_r or sigaction);
#   - abseil ("absl/...");
#   - procspec's own neutral headers: "platform/<name>.h" and "platform/internal/<name>.h";
#   - the test libraries the root's tests use (GoogleTest, nlohmann/json, and procspec's
#     platform/testing/status_matchers.h, which includes only abseil and GoogleTest), which are
#     portable.
# and may not test an OS macro (__linux__, _WIN32, ...): an OS's code is chosen in BUILD with
# select(), in the OS's own folder. As a control that the check can fail, a file that includes
# <unistd.h> and tests __linux__ must be rejected.
set -euo pipefail

readonly -a cxx_headers=(
  algorithm any array atomic barrier bit bitset cassert cctype cerrno cfenv cfloat charconv
  chrono cinttypes climits clocale cmath codecvt compare complex concepts condition_variable
  coroutine csetjmp csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar
  cwctype deque exception execution filesystem format forward_list fstream functional future
  initializer_list iomanip ios iosfwd iostream istream iterator latch limits list locale map
  memory memory_resource mutex new numbers numeric optional ostream queue random ranges ratio
  regex scoped_allocator semaphore set shared_mutex source_location span sstream stack
  stdexcept stop_token streambuf string string_view syncstream system_error thread tuple
  type_traits typeindex typeinfo unordered_map unordered_set utility valarray variant vector
  version
)
readonly os_macros='__linux__|__linux|linux|__gnu_linux__|_WIN32|_WIN64|__CYGWIN__|__MINGW32__|__MINGW64__|__APPLE__|__MACH__|__unix__|__unix|unix|__FreeBSD__|__NetBSD__|__OpenBSD__|__sun|_POSIX_VERSION'

is_cxx_header() {
  local name=$1 header
  for header in "${cxx_headers[@]}"; do [[ ${name} == "${header}" ]] && return 0; done
  return 1
}

is_allowed_quoted() {
  local name=$1
  [[ ${name} =~ ^absl/ ]] && return 0
  [[ ${name} =~ ^platform/[A-Za-z0-9_]+\.h$ ]] && return 0
  [[ ${name} =~ ^platform/internal/[A-Za-z0-9_]+\.h$ ]] && return 0
  [[ ${name} =~ ^(gtest|gmock|nlohmann)/ ]] && return 0
  [[ ${name} == platform/testing/status_matchers.h ]] && return 0
  return 1
}

# Prints one line per violation in file $1; returns the number of violations (capped).
check_file() {
  local file=$1 line name number=0 count=0
  while IFS= read -r line || [[ -n ${line} ]]; do
    number=$((number + 1))
    if [[ ${line} =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\<([^\>]+)\> ]]; then
      name=${BASH_REMATCH[1]}
      if ! is_cxx_header "${name}"; then
        echo "  ${file}:${number}: <${name}> is not a C++ standard library header"
        count=$((count + 1))
      fi
    elif [[ ${line} =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
      name=${BASH_REMATCH[1]}
      if ! is_allowed_quoted "${name}"; then
        echo "  ${file}:${number}: \"${name}\" is neither abseil nor a neutral procspec header"
        count=$((count + 1))
      fi
    elif [[ ${line} =~ ^[[:space:]]*#[[:space:]]*include ]]; then
      echo "  ${file}:${number}: an include this check cannot read: ${line}"
      count=$((count + 1))
    fi
    if [[ ${line} =~ ^[[:space:]]*#[[:space:]]*(if|ifdef|ifndef|elif) ]] &&
      grep -Eq "(^|[^A-Za-z0-9_])(${os_macros})([^A-Za-z0-9_]|$)" <<<"${line}"; then
      echo "  ${file}:${number}: tests an OS macro: ${line}"
      count=$((count + 1))
    fi
  done <"${file}"
  return $((count > 100 ? 100 : count))
}

# The control: a file that names the OS must be rejected, or the check proves nothing.
control="${TEST_TMPDIR:-$(mktemp -d)}/control.cc"
printf '#include <unistd.h>\n#ifdef __linux__\n#endif\n#include "platform/posix/io.h"\n' >"${control}"
if report=$(check_file "${control}"); then
  echo "FAIL the control file was not rejected; the check cannot fail"
  exit 1
fi
[[ $(grep -c . <<<"${report}") == 3 ]] || { echo "FAIL the control gave:"; echo "${report}"; exit 1; }

(($# > 0)) || { echo "no files given" >&2; exit 2; }
failures=0
for file in "$@"; do
  [[ -f ${file} ]] || { echo "FAIL ${file}: no such file in the runfiles" >&2; exit 2; }
  if ! report=$(check_file "${file}"); then
    echo "FAIL ${file} names an operating system:"
    echo "${report}"
    failures=$((failures + 1))
  fi
done
((failures == 0)) || {
  echo "${failures} of $# files at the root of platform/ are not OS-neutral: move the OS's code to"
  echo "its folder (platform/posix/, platform/windows/, ...) and choose it in BUILD with select()"
  exit 1
}
echo "all $# files at the root of platform/ are OS-neutral"
