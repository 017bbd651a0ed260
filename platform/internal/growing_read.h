// Reading a number of bytes that the other end announced: the buffer grows
// only as bytes arrive, never to the announced size up front, so a forged
// length costs nothing but the bytes that really came.
#ifndef PROCSPEC_PLATFORM_INTERNAL_GROWING_READ_H_
#define PROCSPEC_PLATFORM_INTERNAL_GROWING_READ_H_

#include <cstddef>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"

namespace procspec::platform::internal {

// The first step of a growing buffer, and the least it grows by.
inline constexpr std::size_t kGrowingReadStep = 64 * 1024;

// One read of at most `capacity` bytes into `buffer`: the bytes read, 0 at
// end of file.
using ReadFunction = absl::FunctionRef<absl::StatusOr<std::size_t>(
    char* buffer, std::size_t capacity)>;

// Reads exactly `size` bytes with `read`. The buffer starts at
// kGrowingReadStep bytes (or `size`, if smaller) and at most doubles each
// time it is full, so that it never exceeds twice what has arrived plus
// kGrowingReadStep, and every byte is read once and moved a bounded number
// of times (linear in what arrives). A premature end of file is OutOfRange
// "end of file after <n> of <size> bytes"; errors of `read` pass through.
absl::StatusOr<std::string> ReadGrowing(std::size_t size, ReadFunction read);

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_INTERNAL_GROWING_READ_H_
