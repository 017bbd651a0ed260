// Memory limits and measurements for tests that check that memory grows only
// as bytes arrive (a forged length costs nothing): a child limits its own
// address space, then reports its peak resident size.
#ifndef PROCSPEC_PLATFORM_TESTING_MEMORY_TESTING_H_
#define PROCSPEC_PLATFORM_TESTING_MEMORY_TESTING_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace procspec::platform::testing {

// False in a build whose runtime reserves terabytes of address space at start
// (AddressSanitizer, ThreadSanitizer, MemorySanitizer): there a small address
// space limit would stop the program itself, not the allocation under test.
bool AddressSpaceCanBeLimited();

// Limits the calling process's address space (RLIMIT_AS, soft and hard) to
// what it uses now (VmSize) plus `bytes`: an allocation past that fails
// (std::bad_alloc) instead of succeeding. Relative, so that a forked child of
// a large test process is limited as much as a small one.
absl::Status LimitAddressSpaceGrowth(std::size_t bytes);

// The calling process's peak resident set size so far, in bytes (VmHWM).
absl::StatusOr<std::size_t> PeakResidentBytes();

}  // namespace procspec::platform::testing

#endif  // PROCSPEC_PLATFORM_TESTING_MEMORY_TESTING_H_
