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

}  // namespace procspec::frame

#endif  // PROCSPEC_PROCESS_FRAME_H_
