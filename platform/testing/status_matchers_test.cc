#include "platform/testing/status_matchers.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace {

// How many times the expression under test ran. EXPECT_FATAL_FAILURE's
// statement cannot refer to local variables, hence a global.
int g_evaluations = 0;

absl::Status CountedStatus(absl::Status status) {
  ++g_evaluations;
  return status;
}

absl::StatusOr<int> CountedValue(absl::StatusOr<int> value) {
  ++g_evaluations;
  return value;
}

class StatusMatchersTest : public ::testing::Test {
 protected:
  void SetUp() override { g_evaluations = 0; }
};

TEST_F(StatusMatchersTest, AssertOkEvaluatesAFailingStatusOnce) {
  EXPECT_FATAL_FAILURE(ASSERT_OK(CountedStatus(absl::InternalError("boom"))),
                       "boom");
  EXPECT_EQ(g_evaluations, 1);
}

TEST_F(StatusMatchersTest, AssertOkEvaluatesAFailingStatusOrOnce) {
  EXPECT_FATAL_FAILURE(
      ASSERT_OK(CountedValue(absl::NotFoundError("no such thing"))),
      "no such thing");
  EXPECT_EQ(g_evaluations, 1);
}

TEST_F(StatusMatchersTest, ExpectOkEvaluatesAFailingStatusOnce) {
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(CountedStatus(absl::InternalError("boom")))
                              << "more context",
                          "more context");
  EXPECT_EQ(g_evaluations, 1);
}

TEST_F(StatusMatchersTest, AssertOkAndAssignEvaluatesAFailingStatusOrOnce) {
  EXPECT_FATAL_FAILURE(
      {
        ASSERT_OK_AND_ASSIGN(int value, CountedValue(absl::AbortedError("x")));
        (void)value;
      },
      "ABORTED");
  EXPECT_EQ(g_evaluations, 1);
}

TEST_F(StatusMatchersTest, PassingAssertionsEvaluateOnce) {
  ASSERT_OK(CountedStatus(absl::OkStatus()));
  EXPECT_OK(CountedValue(7));
  ASSERT_OK_AND_ASSIGN(const int value, CountedValue(42));
  EXPECT_EQ(value, 42);
  EXPECT_EQ(g_evaluations, 3);
}

TEST(StatusMatchers, FailureMessageNamesTheExpressionAndTheStatus) {
  EXPECT_NONFATAL_FAILURE(
      EXPECT_OK(absl::InvalidArgumentError("bad")),
      "Expected: absl::InvalidArgumentError(\"bad\") is OK");
  EXPECT_NONFATAL_FAILURE(EXPECT_OK(absl::InvalidArgumentError("bad")),
                          "INVALID_ARGUMENT: bad");
}

TEST(StatusMatchers, AssignsMoveOnlyValues) {
  ASSERT_OK_AND_ASSIGN(
      std::unique_ptr<int> pointer,
      absl::StatusOr<std::unique_ptr<int>>(std::make_unique<int>(5)));
  ASSERT_NE(pointer, nullptr);
  EXPECT_EQ(*pointer, 5);
  std::string text;
  ASSERT_OK_AND_ASSIGN(text, absl::StatusOr<std::string>("assigned"));
  EXPECT_EQ(text, "assigned");
}

}  // namespace
