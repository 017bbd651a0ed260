#include "platform/internal/growing_read.h"

#include <algorithm>
#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace procspec::platform::internal {

absl::StatusOr<std::string> ReadGrowing(std::size_t size, ReadFunction read) {
  std::string data;
  std::size_t filled = 0;
  while (filled < size) {
    if (filled == data.size()) {
      // Full: grow by what has arrived (doubling), at least one step, never
      // past what is still announced.
      const std::size_t step = std::max(kGrowingReadStep, filled);
      data.resize(filled + std::min(step, size - filled));
    }
    absl::StatusOr<std::size_t> got =
        read(data.data() + filled, data.size() - filled);
    if (!got.ok()) return got.status();
    if (*got == 0) {
      return absl::OutOfRangeError(
          absl::StrCat("end of file after ", filled, " of ", size, " bytes"));
    }
    filled += *got;
  }
  return data;
}

}  // namespace procspec::platform::internal
