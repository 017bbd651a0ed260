#include "platform/internal/growing_read.h"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"
#include "platform/testing/status_matchers.h"

namespace procspec::platform::internal {
namespace {

// A source of `available` bytes ('a' + i % 26) that hands out at most `chunk`
// bytes per read, as a pipe does, and records what each read was offered.
class FakeSource {
 public:
  FakeSource(std::size_t available, std::size_t chunk)
      : available_(available), chunk_(chunk) {}

  absl::StatusOr<std::size_t> Read(char* buffer, std::size_t capacity) {
    ++reads_;
    largest_offer_ = std::max(largest_offer_, capacity);
    // A read may never be offered more room than twice what has arrived,
    // plus one step: the buffer grows with the bytes.
    if (capacity > 2 * sent_ + kGrowingReadStep) offered_too_much_ = true;
    const std::size_t n = std::min({capacity, chunk_, available_ - sent_});
    for (std::size_t i = 0; i < n; ++i)
      buffer[i] = static_cast<char>('a' + (sent_ + i) % 26);
    sent_ += n;
    return n;
  }

  int reads() const { return reads_; }
  std::size_t largest_offer() const { return largest_offer_; }
  bool offered_too_much() const { return offered_too_much_; }

 private:
  std::size_t available_;
  std::size_t chunk_;
  std::size_t sent_ = 0;
  int reads_ = 0;
  std::size_t largest_offer_ = 0;
  bool offered_too_much_ = false;
};

absl::StatusOr<std::string> ReadFrom(FakeSource& source, std::size_t size) {
  return ReadGrowing(size, [&source](char* buffer, std::size_t capacity) {
    return source.Read(buffer, capacity);
  });
}

TEST(GrowingReadTest, ReadsEveryByteOnceWithOneReadPerChunk) {
  constexpr std::size_t kSize = 100 * 1024 * 1024;
  constexpr std::size_t kChunk = 64 * 1024;  // a pipe's worth
  FakeSource source(kSize, kChunk);
  absl::StatusOr<std::string> data = ReadFrom(source, kSize);
  ASSERT_OK(data);
  ASSERT_EQ(data->size(), kSize);
  for (std::size_t i = 0; i < kSize; i += 4093)
    ASSERT_EQ((*data)[i], static_cast<char>('a' + i % 26)) << i;
  // One read per chunk that arrives (each read fills what it is offered or
  // takes a whole chunk), plus one per growth of the buffer at most.
  EXPECT_LE(source.reads(), static_cast<int>(kSize / kChunk) + 16);
  EXPECT_FALSE(source.offered_too_much());
}

TEST(GrowingReadTest, AnnouncedSizeThatNeverComesCostsNothing) {
  constexpr std::size_t kAnnounced = std::size_t{1} << 30;
  FakeSource source(10, 4);
  absl::StatusOr<std::string> data = ReadFrom(source, kAnnounced);
  EXPECT_EQ(data.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(data.status().message(),
            "end of file after 10 of 1073741824 bytes");
  EXPECT_LE(source.largest_offer(), kGrowingReadStep);
  EXPECT_FALSE(source.offered_too_much());
}

TEST(GrowingReadTest, SmallAndEmptySizes) {
  FakeSource source(3, 1);
  absl::StatusOr<std::string> data = ReadFrom(source, 3);
  ASSERT_OK(data);
  EXPECT_EQ(*data, "abc");
  EXPECT_EQ(source.largest_offer(), 3u);  // never more than announced

  FakeSource none(0, 1);
  data = ReadFrom(none, 0);
  ASSERT_OK(data);
  EXPECT_EQ(*data, "");
  EXPECT_EQ(none.reads(), 0);
}

TEST(GrowingReadTest, ReadErrorsPassThrough) {
  absl::StatusOr<std::string> data =
      ReadGrowing(5, [](char*, std::size_t) -> absl::StatusOr<std::size_t> {
        return absl::UnavailableError("boom");
      });
  EXPECT_EQ(data.status(), absl::UnavailableError("boom"));
}

}  // namespace
}  // namespace procspec::platform::internal
