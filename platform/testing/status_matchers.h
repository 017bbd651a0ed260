// Status assertions for gtest, after abseil's status matchers and gVisor's
// ASSERT_NO_ERRNO (the system abseil has no status matchers):
//
//   ASSERT_OK(process.start());
//   EXPECT_OK(process.join()) << "while joining " << process.name();
//   ASSERT_OK_AND_ASSIGN(auto pipe, Pipe());
//
// Each evaluates its argument exactly once, also when it fails: a failing
// ASSERT_OK(process.start()) must not start the child a second time to build
// its message. The argument is an absl::Status or an absl::StatusOr<T>; `<<`
// adds to the failure message. Plain C++ and gtest: usable by every test in
// the repository, on every OS.
#ifndef PROCSPEC_PLATFORM_TESTING_STATUS_MATCHERS_H_
#define PROCSPEC_PLATFORM_TESTING_STATUS_MATCHERS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace procspec::platform::testing {

// The status of an absl::Status or an absl::StatusOr<T>.
inline const absl::Status& StatusOf(const absl::Status& status) {
  return status;
}
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

namespace status_internal {

// A gtest predicate-formatter: success for an OK status, else "Expected:
// <expression> is OK\n  Actual: <status>".
template <typename StatusOrValue>
::testing::AssertionResult IsOk(const char* expression,
                                const StatusOrValue& value) {
  const absl::Status& status = StatusOf(value);
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "Expected: " << expression << " is OK\n  Actual: " << status;
}

}  // namespace status_internal
}  // namespace procspec::platform::testing

#define PROCSPEC_STATUS_CONCAT_INNER_(a, b) a##b
#define PROCSPEC_STATUS_CONCAT_(a, b) PROCSPEC_STATUS_CONCAT_INNER_(a, b)

// gtest's predicate-formatter assertions evaluate their argument once.
#define ASSERT_OK(expr)                                                     \
  ASSERT_PRED_FORMAT1(::procspec::platform::testing::status_internal::IsOk, \
                      expr)
#define EXPECT_OK(expr)                                                     \
  EXPECT_PRED_FORMAT1(::procspec::platform::testing::status_internal::IsOk, \
                      expr)

// Declares or assigns `lhs` from the value of the StatusOr `expr`, or fails
// the test (returning from the function) with its status. A statement of its
// own: it cannot be the body of an unbraced if.
#define ASSERT_OK_AND_ASSIGN(lhs, expr) \
  PROCSPEC_ASSERT_OK_AND_ASSIGN_(       \
      PROCSPEC_STATUS_CONCAT_(procspec_status_or_, __LINE__), lhs, expr)
#define PROCSPEC_ASSERT_OK_AND_ASSIGN_(status_or, lhs, expr)                   \
  auto status_or = (expr);                                                     \
  if (!status_or.ok())                                                         \
    GTEST_FATAL_FAILURE_(                                                      \
        ::procspec::platform::testing::status_internal::IsOk(#expr, status_or) \
            .failure_message());                                               \
  lhs = *std::move(status_or)

#endif  // PROCSPEC_PLATFORM_TESTING_STATUS_MATCHERS_H_
