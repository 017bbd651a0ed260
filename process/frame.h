// The wire format of Connection and Queue messages, as CPython's
// multiprocessing.connection frames them: a 4-byte big-endian signed length,
// then the body; a body longer than 0x7fffffff bytes has the length -1, then
// an 8-byte big-endian unsigned length. Pure functions over bytes (no I/O), so
// that they can be tested and fuzzed alone.
#ifndef PROCSPEC_PROCESS_FRAME_H_
#define PROCSPEC_PROCESS_FRAME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace procspec::frame {

inline constexpr std::size_t kShortHeaderSize = 4;
inline constexpr std::size_t kLongHeaderSize = 12;
// The longest body a short header describes (CPython: n > 0x7fffffff takes
// the long header).
inline constexpr std::uint64_t kMaxShortBody = 0x7fffffff;

// The header's size for a body of `body_size` bytes.
constexpr std::size_t HeaderSize(std::uint64_t body_size) {
  return body_size > kMaxShortBody ? kLongHeaderSize : kShortHeaderSize;
}

// Writes the header for a body of `body_size` bytes at `out`, which has room
// for HeaderSize(body_size) bytes; returns the bytes written.
std::size_t WriteHeader(char* out, std::uint64_t body_size);

// Appends the header and `body` to `out`.
void AppendFrame(std::string& out, std::string_view body);

// What the start of a buffer holds.
struct Decoded {
  enum class Kind {
    // `needed` bytes (counted from the buffer's start) are needed to go on:
    // the rest of the header, or of the body once the header is known.
    kNeedMore,
    // A whole frame: the body is buffer.substr(body_offset, body_size), and
    // the frame ends at body_offset + body_size.
    kFrame,
    // A header no writer produces (a negative length other than -1).
    kBadLength,
  };
  Kind kind = Kind::kNeedMore;
  std::size_t body_offset = 0;
  std::uint64_t body_size = 0;  // Also set for kNeedMore once the header is.
  std::uint64_t needed = 0;
  bool header_known = false;
};

// Decodes the frame at the start of `buffer`. Never reads past its end.
Decoded Decode(std::string_view buffer);

// ---- Queue records
// A Queue's pipe carries records, each written whole in one atomic write (at
// most PIPE_BUF bytes, never torn even if the writer is killed): a 4-byte
// big-endian header (the kind in the top 2 bits, the body's length in the low
// 30), then the body. A message that fits in one record is kWhole; a longer
// one is kFirst, kMiddle..., kLast, written while the writer holds the
// queue's writer lock, so that a reader that sees a kFirst or kWhole where a
// continuation should be knows the previous writer died mid-message.
enum class RecordKind : std::uint8_t {
  kWhole = 0,
  kFirst = 1,
  kMiddle = 2,
  kLast = 3,
};
inline constexpr std::size_t kRecordHeaderSize = 4;

// Appends `message` as records of at most `record_limit` bytes each (header
// included; at least kRecordHeaderSize + 1).
void AppendRecords(std::string& out, std::string_view message,
                   std::size_t record_limit);

struct DecodedRecord {
  bool complete = false;  // False: the header or body is not all there yet.
  RecordKind kind = RecordKind::kWhole;
  std::size_t body_size = 0;  // Set once the header is there.
  // Bytes the record takes, header included (once the header is there).
  std::size_t size = 0;
};

// Decodes the record at the start of `buffer`. Never reads past its end.
DecodedRecord DecodeRecord(std::string_view buffer);

// The length of the longest prefix of `records` (a sequence of whole
// records) made of whole records and at most `limit` bytes long; at least
// the first record, whatever its size. 0 for an empty or malformed input.
std::size_t NextPacket(std::string_view records, std::size_t limit);

}  // namespace procspec::frame

#endif  // PROCSPEC_PROCESS_FRAME_H_
