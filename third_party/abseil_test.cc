// The abseil a build links works, whichever the target OS: natively it is
// Debian's libabsl-dev, under --config=windows it is compiled from source and
// the test runs under Wine.

#include <string>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace {

absl::StatusOr<int> Half(int n) {
  if (n % 2 != 0) return absl::InvalidArgumentError(absl::StrCat(n, " is odd"));
  return n / 2;
}

TEST(Abseil, StatusAndStrings) {
  EXPECT_EQ(*Half(8), 4);
  absl::StatusOr<int> odd = Half(3);
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(odd.status().message(), "3 is odd");
  EXPECT_EQ(absl::StrFormat("%s=%03d", "x", 7), "x=007");
}

TEST(Abseil, ContainersAndRandom) {
  absl::flat_hash_map<std::string, int> counts;
  absl::BitGen gen;
  for (int i = 0; i < 100; ++i)
    ++counts[absl::StrCat(absl::Uniform(gen, 0, 3))];
  int total = 0;
  for (const auto& [key, count] : counts) total += count;
  EXPECT_EQ(total, 100);
  EXPECT_LE(counts.size(), 3u);
}

TEST(Abseil, MutexNotificationAndTime) {
  absl::Mutex mu;
  int value = 0;
  absl::Notification done;
  std::thread writer([&] {
    absl::MutexLock lock(&mu);
    value = 42;
    done.Notify();
  });
  EXPECT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  writer.join();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(value, 42);
  const absl::Time before = absl::Now();
  EXPECT_GE(absl::Now(), before);
  EXPECT_EQ(absl::FormatDuration(absl::Milliseconds(1500)), "1.5s");
}

}  // namespace
