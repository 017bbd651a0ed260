#include "process/frame.h"

#include <cstdint>
#include <string>
#include <string_view>

namespace procspec::frame {
namespace {

std::uint64_t ReadBigEndian(const char* in, int bytes) {
  std::uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

void WriteBigEndian(char* out, std::uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
}

}  // namespace

std::size_t WriteHeader(char* out, std::uint64_t body_size) {
  if (body_size <= kMaxShortBody) {
    WriteBigEndian(out, body_size, 4);
    return kShortHeaderSize;
  }
  WriteBigEndian(out, 0xffffffffu, 4);  // -1 as a signed 32-bit integer.
  WriteBigEndian(out + 4, body_size, 8);
  return kLongHeaderSize;
}

void AppendFrame(std::string& out, std::string_view body) {
  char header[kLongHeaderSize];
  const std::size_t header_size = WriteHeader(header, body.size());
  out.append(header, header_size);
  out.append(body);
}

Decoded Decode(std::string_view buffer) {
  Decoded result;
  if (buffer.size() < kShortHeaderSize) {
    result.needed = kShortHeaderSize;
    return result;
  }
  const auto length = static_cast<std::int32_t>(
      static_cast<std::uint32_t>(ReadBigEndian(buffer.data(), 4)));
  std::uint64_t body_size;
  std::size_t header_size;
  if (length >= 0) {
    body_size = static_cast<std::uint64_t>(length);
    header_size = kShortHeaderSize;
  } else if (length == -1) {
    if (buffer.size() < kLongHeaderSize) {
      result.needed = kLongHeaderSize;
      return result;
    }
    body_size = ReadBigEndian(buffer.data() + 4, 8);
    header_size = kLongHeaderSize;
  } else {
    result.kind = Decoded::Kind::kBadLength;
    return result;
  }
  result.header_known = true;
  result.body_offset = header_size;
  result.body_size = body_size;
  // A length no buffer could hold (past SIZE_MAX) is bad, not "need more".
  if (body_size > SIZE_MAX - header_size) {
    result.kind = Decoded::Kind::kBadLength;
    return result;
  }
  result.needed = header_size + body_size;
  if (buffer.size() - header_size < body_size) return result;
  result.kind = Decoded::Kind::kFrame;
  return result;
}

namespace {

void AppendRecord(std::string& out, RecordKind kind, std::string_view body) {
  char header[kRecordHeaderSize];
  WriteBigEndian(header, (static_cast<std::uint64_t>(kind) << 30) | body.size(),
                 4);
  out.append(header, kRecordHeaderSize);
  out.append(body);
}

}  // namespace

void AppendRecords(std::string& out, std::string_view message,
                   std::size_t record_limit) {
  const std::size_t chunk = record_limit - kRecordHeaderSize;
  if (message.size() <= chunk) {
    AppendRecord(out, RecordKind::kWhole, message);
    return;
  }
  AppendRecord(out, RecordKind::kFirst, message.substr(0, chunk));
  message.remove_prefix(chunk);
  while (message.size() > chunk) {
    AppendRecord(out, RecordKind::kMiddle, message.substr(0, chunk));
    message.remove_prefix(chunk);
  }
  AppendRecord(out, RecordKind::kLast, message);
}

DecodedRecord DecodeRecord(std::string_view buffer) {
  DecodedRecord record;
  if (buffer.size() < kRecordHeaderSize) return record;
  const std::uint64_t header = ReadBigEndian(buffer.data(), 4);
  record.kind = static_cast<RecordKind>(header >> 30);
  record.body_size = static_cast<std::size_t>(header & 0x3fffffff);
  record.size = kRecordHeaderSize + record.body_size;
  record.complete = buffer.size() >= record.size;
  return record;
}

std::size_t NextPacket(std::string_view records, std::size_t limit) {
  std::size_t length = 0;
  while (length < records.size()) {
    const DecodedRecord record = DecodeRecord(records.substr(length));
    if (!record.complete) break;
    if (length > 0 && length + record.size > limit) break;
    length += record.size;
  }
  return length;
}

}  // namespace procspec::frame
