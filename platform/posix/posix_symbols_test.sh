#!/usr/bin/env bash
# Proves that object archives call nothing outside POSIX.1-2008.
#
# Usage: posix_symbols_test.sh ALLOWLIST DENYLIST --expect-pass FILE... --expect-fail FILE...
# Every archive (.a) after --expect-pass must reference only allowed symbols; every archive after
# --expect-fail must reference at least one denied symbol (a control: it proves the check can
# fail). Other files (shared libraries) are skipped: an archive holds exactly the library's own
# objects. A symbol is checked as follows:
#   1. its plain name, or for a mangled C++ name of a global function (`_Z10pidfd_openij`, a C
#      function declared without extern "C") the function's name, against the denylist;
#   2. the symbol against the allowlist, also trying glibc's spellings (__NAME_chk, NAME64,
#      __isoc99_NAME).
set -euo pipefail

readonly allowlist_file=$1 denylist_file=$2
shift 2

read_patterns() { grep -v '^[[:space:]]*\(#\|$\)' "$1" | sed 's/[[:space:]]*$//'; }
mapfile -t allowed < <(read_patterns "${allowlist_file}")
mapfile -t denied < <(read_patterns "${denylist_file}")
((${#allowed[@]} > 0)) || { echo "empty allowlist ${allowlist_file}" >&2; exit 2; }
((${#denied[@]} > 0)) || { echo "empty denylist ${denylist_file}" >&2; exit 2; }

matches_any() {  # NAME PATTERN...
  local name=$1 pattern
  shift
  for pattern in "$@"; do
    # Unquoted on purpose: each pattern is a shell glob.
    # shellcheck disable=SC2053
    [[ ${name} == ${pattern} ]] && return 0
  done
  return 1
}

# The C function name behind a mangled global function, or nothing.
c_name_of() {
  local demangled
  demangled=$(c++filt -- "$1")
  # "pidfd_open(int, unsigned int)": an identifier, then the parameter list, no scope.
  if [[ ${demangled} =~ ^([A-Za-z_][A-Za-z0-9_]*)\( ]]; then echo "${BASH_REMATCH[1]}"; fi
}

is_allowed() {
  local name=$1
  matches_any "${name}" "${allowed[@]}" && return 0
  [[ ${name} =~ ^__(.+)_chk$ ]] && matches_any "${BASH_REMATCH[1]}" "${allowed[@]}" && return 0
  [[ ${name} =~ ^(.+)64$ ]] && matches_any "${BASH_REMATCH[1]}" "${allowed[@]}" && return 0
  [[ ${name} =~ ^__isoc(99|23)_(.+)$ ]] && matches_any "${BASH_REMATCH[2]}" "${allowed[@]}" && return 0
  return 1
}

# Prints one line per offending symbol of archive $1; returns the number of denied ones (capped).
check_archive() {
  local archive=$1 symbol name denied_count=0
  local listing symbols
  listing=$(nm -u --format=posix "${archive}") || { echo "  ERROR    nm cannot read ${archive}"; return 100; }
  symbols=$(awk 'NF >= 2 && $2 ~ /^[Uw]$/ { print $1 }' <<<"${listing}" | sed 's/@.*//' | sort -u)
  [[ -n ${symbols} ]] || { echo "  ERROR    no undefined symbols in ${archive}"; return 100; }
  while IFS= read -r symbol; do
    [[ -n ${symbol} ]] || continue
    name=${symbol}
    if [[ ${symbol} == _Z* ]]; then
      name=$(c_name_of "${symbol}")
      if [[ -z ${name} ]]; then continue; fi  # a C++ name with a scope: library code
    fi
    if matches_any "${name}" "${denied[@]}"; then
      echo "  DENIED   ${symbol} (${name}: Linux-only)"
      denied_count=$((denied_count + 1))
    elif ! is_allowed "${symbol}" && ! is_allowed "${name}"; then
      echo "  UNKNOWN  ${symbol} (not on the POSIX.1-2008 allowlist; add it there if it is POSIX)"
      denied_count=$((denied_count + 1))
    fi
  done <<<"${symbols}"
  return $((denied_count > 100 ? 100 : denied_count))
}

mode=""
checked=0
failures=0
for file in "$@"; do
  case "${file}" in
    --expect-pass | --expect-fail) mode=${file}; continue ;;
    *.a) ;;
    *) continue ;;
  esac
  [[ -n ${mode} ]] || { echo "no --expect-pass/--expect-fail before ${file}" >&2; exit 2; }
  [[ -f ${file} ]] || { echo "FAIL ${file}: no such archive in the runfiles" >&2; exit 2; }
  checked=$((checked + 1))
  report=$(check_archive "${file}") && status=0 || status=$?
  if [[ ${mode} == --expect-pass ]]; then
    if ((status == 0)); then
      echo "PASS ${file}: POSIX.1-2008 only"
    else
      echo "FAIL ${file}: calls outside POSIX.1-2008:"
      echo "${report}"
      failures=$((failures + 1))
    fi
  else
    if grep -q DENIED <<<"${report}" && ! grep -q ERROR <<<"${report}"; then
      echo "PASS ${file}: control rejected as expected:"
      echo "${report}"
    else
      echo "FAIL ${file}: the control archive was not rejected; the check cannot fail"
      failures=$((failures + 1))
    fi
  fi
done

((checked > 0)) || { echo "no archives given" >&2; exit 2; }
((failures == 0)) || exit 1
echo "all ${checked} archives as expected"
