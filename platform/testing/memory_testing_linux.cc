#include <sys/resource.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "platform/testing/memory_testing.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PROCSPEC_RESERVES_ADDRESS_SPACE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define PROCSPEC_RESERVES_ADDRESS_SPACE 1
#endif
#endif

namespace procspec::platform::testing {

bool AddressSpaceCanBeLimited() {
#ifdef PROCSPEC_RESERVES_ADDRESS_SPACE
  return false;
#else
  return true;
#endif
}

namespace {

// A "<field>: <n> kB" line of /proc/self/status, in bytes.
absl::StatusOr<std::size_t> StatusBytes(absl::string_view field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, field) || !absl::ConsumePrefix(&rest, ":"))
      continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    rest = absl::StripAsciiWhitespace(rest);
    std::size_t kib = 0;
    if (!absl::SimpleAtoi(rest, &kib))
      return absl::InternalError(absl::StrCat("bad line: ", line));
    return kib * 1024;
  }
  return absl::UnavailableError(
      absl::StrCat("no ", field, " in /proc/self/status"));
}

}  // namespace

absl::Status LimitAddressSpaceGrowth(std::size_t bytes) {
  absl::StatusOr<std::size_t> now = StatusBytes("VmSize");
  if (!now.ok()) return now.status();
  const auto cap = static_cast<rlim_t>(*now + bytes);
  const rlimit limit = {cap, cap};
  if (setrlimit(RLIMIT_AS, &limit) != 0) {
    return absl::InternalError(
        absl::StrCat("setrlimit(RLIMIT_AS): ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::size_t> PeakResidentBytes() { return StatusBytes("VmHWM"); }

}  // namespace procspec::platform::testing
