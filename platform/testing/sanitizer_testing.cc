#include "platform/testing/sanitizer_testing.h"

#include "platform/posix/internal/thread_sanitizer.h"

namespace procspec::platform::testing {

bool UnderThreadSanitizer() { return PROCSPEC_THREAD_SANITIZER == 1; }

}  // namespace procspec::platform::testing
