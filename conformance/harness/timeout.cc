#include "conformance/harness/timeout.h"

#include <optional>
#include <string>

#include "absl/strings/numbers.h"
#include "platform/testing/os_testing.h"

// Sanitizers slow fork and every syscall severalfold; gcc and clang announce
// them differently.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define PROCSPEC_SANITIZED_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(memory_sanitizer)
#define PROCSPEC_SANITIZED_BUILD 1
#endif
#endif

namespace conformance {
namespace {

#ifdef PROCSPEC_SANITIZED_BUILD
constexpr double kDefaultScale = 5;
#else
constexpr double kDefaultScale = 1;
#endif

}  // namespace

double TimeoutScale() {
  std::optional<std::string> value =
      procspec::platform::testing::GetEnv("PROCSPEC_TIMEOUT_SCALE");
  double scale = 0;
  if (value.has_value() && absl::SimpleAtod(*value, &scale) && scale > 0)
    return scale;
  return kDefaultScale;
}

absl::Duration ScaledTimeout(absl::Duration timeout) {
  return timeout * TimeoutScale();
}

}  // namespace conformance
