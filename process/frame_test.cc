// The frame codec alone: every prefix of a stream of frames decodes to "need
// more" until the frame is whole, and bad headers are reported, never read
// past.
#include "process/frame.h"

#include <string>
#include <string_view>
#include <vector>

#include "gtest/gtest.h"

namespace procspec::frame {
namespace {

TEST(Frame, ShortHeaderIsFourBytesBigEndian) {
  std::string out;
  AppendFrame(out, "abc");
  EXPECT_EQ(out, std::string("\0\0\0\x03"
                             "abc",
                             7));
  char header[kLongHeaderSize];
  EXPECT_EQ(WriteHeader(header, 0x01020304), kShortHeaderSize);
  EXPECT_EQ(std::string(header, 4), "\x01\x02\x03\x04");
}

TEST(Frame, LongHeaderIsMinusOneThenEightBytes) {
  char header[kLongHeaderSize];
  ASSERT_EQ(WriteHeader(header, 0x80000000ull), kLongHeaderSize);
  EXPECT_EQ(std::string(header, 12),
            std::string("\xff\xff\xff\xff\0\0\0\0\x80\0\0\0", 12));
  const Decoded decoded = Decode(std::string_view(header, 12));
  EXPECT_EQ(decoded.kind, Decoded::Kind::kNeedMore);
  EXPECT_TRUE(decoded.header_known);
  EXPECT_EQ(decoded.body_size, 0x80000000ull);
  EXPECT_EQ(decoded.needed, 12 + 0x80000000ull);
}

TEST(Frame, EveryPrefixNeedsMoreUntilTheFrameIsWhole) {
  std::string stream;
  AppendFrame(stream, "hello");
  AppendFrame(stream, "");
  for (std::size_t n = 0; n < 9; ++n) {
    const Decoded decoded = Decode(std::string_view(stream).substr(0, n));
    EXPECT_EQ(decoded.kind, Decoded::Kind::kNeedMore) << n;
    EXPECT_GT(decoded.needed, n);
  }
  const Decoded first = Decode(stream);
  ASSERT_EQ(first.kind, Decoded::Kind::kFrame);
  EXPECT_EQ(stream.substr(first.body_offset, first.body_size), "hello");
  const Decoded second = Decode(
      std::string_view(stream).substr(first.body_offset + first.body_size));
  ASSERT_EQ(second.kind, Decoded::Kind::kFrame);
  EXPECT_EQ(second.body_size, 0u);
}

TEST(Frame, NegativeLengthOtherThanMinusOneIsBad) {
  EXPECT_EQ(Decode(std::string("\xff\xff\xff\xfe", 4)).kind,
            Decoded::Kind::kBadLength);
  EXPECT_EQ(Decode(std::string("\x80\0\0\0", 4)).kind,
            Decoded::Kind::kBadLength);
}

TEST(Frame, LengthPastAddressSpaceIsBad) {
  EXPECT_EQ(Decode(std::string(
                       "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 12))
                .kind,
            Decoded::Kind::kBadLength);
}

TEST(Records, SmallMessageIsOneWholeRecord) {
  std::string out;
  AppendRecords(out, "abc", 4096);
  EXPECT_EQ(out, std::string("\0\0\0\x03"
                             "abc",
                             7));
  const DecodedRecord record = DecodeRecord(out);
  EXPECT_TRUE(record.complete);
  EXPECT_EQ(record.kind, RecordKind::kWhole);
  EXPECT_EQ(record.body_size, 3u);
  EXPECT_EQ(record.size, 7u);
}

TEST(Records, LargeMessageIsFirstMiddleLastEachWithinTheLimit) {
  const std::string message(10000, 'm');
  std::string out;
  AppendRecords(out, message, 4096);
  std::string_view rest = out;
  std::string joined;
  std::vector<RecordKind> kinds;
  while (!rest.empty()) {
    const DecodedRecord record = DecodeRecord(rest);
    ASSERT_TRUE(record.complete);
    EXPECT_LE(record.size, 4096u);
    kinds.push_back(record.kind);
    joined.append(rest.substr(kRecordHeaderSize, record.body_size));
    rest.remove_prefix(record.size);
  }
  EXPECT_EQ(joined, message);
  EXPECT_EQ(kinds,
            (std::vector<RecordKind>{RecordKind::kFirst, RecordKind::kMiddle,
                                     RecordKind::kLast}));
}

TEST(Records, PartialRecordIsIncomplete) {
  std::string out;
  AppendRecords(out, "hello", 4096);
  for (std::size_t n = 0; n < out.size(); ++n)
    EXPECT_FALSE(DecodeRecord(std::string_view(out).substr(0, n)).complete);
}

TEST(Records, PacketsCutAtRecordBoundariesWithinTheLimit) {
  std::string out;
  for (int i = 0; i < 100; ++i) AppendRecords(out, std::string(96, 'p'), 4096);
  // 100-byte records: 40 fit in 4096 bytes.
  EXPECT_EQ(NextPacket(out, 4096), 4000u);
  // At least one record, whatever the limit.
  EXPECT_EQ(NextPacket(out, 10), 100u);
  EXPECT_EQ(NextPacket("", 4096), 0u);
  EXPECT_EQ(NextPacket(std::string_view(out).substr(0, 50), 4096), 0u);
}

}  // namespace
}  // namespace procspec::frame
