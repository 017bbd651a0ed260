#include "fuzz/decoders.h"

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/internal/wire.h"
#include "process/connection.h"
#include "process/frame.h"
#include "process/internal/bootstrap.h"
#include "process/internal/forkserver.h"
#include "process/process.h"

namespace procspec::fuzz {
namespace {

Result Rejected(std::string reason) {
  return Result{Outcome::kRejected, std::move(reason)};
}

// RunSpawned / RunServed after the payload is read: Restore, then run() (the
// child's Bootstrap::Run maps an exception to exit code 1).
Result RestoreAndRun(const std::string& payload) {
  absl::StatusOr<std::unique_ptr<Process>> process =
      internal::Bootstrap::Restore(payload);
  if (!process.ok()) return Rejected(std::string(process.status().message()));
  try {
    (*process)->run();
  } catch (const std::exception& error) {
    return Rejected(absl::StrCat("run(): ", error.what()));
  }
  return Result{Outcome::kAccepted, ""};
}

// Decodes one message body as the MessageTypes element its tag names.
Result DecodeValue(std::string_view body) {
  std::string reason = "the tag names none of the message types";
  bool decoded = false;
  auto attempt = [&]<typename T>(std::type_identity<T>) {
    if (decoded) return;
    absl::StatusOr<std::string_view> payload =
        connection_internal::ValuePayload(body, connection_internal::TagOf<T>(),
                                          typeid(T));
    if (!payload.ok()) return;  // another type's tag
    absl::StatusOr<T> value = connection_internal::ParseValue<T>(body);
    if (value.ok()) {
      decoded = true;
    } else {
      reason = std::string(value.status().message());
    }
  };
  std::apply(
      [&](auto... types) {
        (attempt(std::type_identity<decltype(types)>{}), ...);
      },
      MessageTypes{});
  if (!decoded) return Rejected(reason);
  return Result{Outcome::kAccepted, ""};
}

// Pipe frames, one after the other, each a value message.
Result DecodeFrames(std::string_view stream) {
  if (stream.empty()) return Rejected("no message");
  while (!stream.empty()) {
    const frame::Decoded decoded = frame::Decode(stream);
    if (decoded.kind == frame::Decoded::Kind::kBadLength) {
      return Rejected("bad message length");
    }
    if (decoded.kind == frame::Decoded::Kind::kNeedMore) {
      return Rejected("got end of file during message");
    }
    if (decoded.body_offset + decoded.body_size > stream.size()) {
      return Rejected("a frame past the end of the stream");
    }
    const Result value =
        DecodeValue(stream.substr(decoded.body_offset, decoded.body_size));
    if (value.outcome == Outcome::kRejected) return value;
    stream.remove_prefix(decoded.body_offset + decoded.body_size);
  }
  return Result{Outcome::kAccepted, ""};
}

// Queue records, reassembled into items as Queue::get() does.
Result DecodeRecords(std::string_view stream) {
  std::string assembled;
  bool assembling = false;
  int items = 0;
  while (!stream.empty()) {
    const frame::DecodedRecord record = frame::DecodeRecord(stream);
    if (!record.complete || record.size > stream.size()) {
      return Rejected("got end of file during record");
    }
    const std::string_view body =
        stream.substr(frame::kRecordHeaderSize, record.body_size);
    stream.remove_prefix(record.size);
    const bool starts_item = record.kind == frame::RecordKind::kWhole ||
                             record.kind == frame::RecordKind::kFirst;
    if (starts_item && assembling) {
      return Rejected("a producer died while writing an item; it is lost");
    }
    switch (record.kind) {
      case frame::RecordKind::kWhole: {
        const Result value = DecodeValue(body);
        if (value.outcome == Outcome::kRejected) return value;
        ++items;
        break;
      }
      case frame::RecordKind::kFirst:
        assembling = true;
        assembled.assign(body);
        break;
      case frame::RecordKind::kMiddle:
      case frame::RecordKind::kLast:
        if (!assembling) break;  // the rest of an item another reader lost
        assembled.append(body);
        if (record.kind == frame::RecordKind::kLast) {
          assembling = false;
          const Result value = DecodeValue(assembled);
          if (value.outcome == Outcome::kRejected) return value;
          ++items;
        }
        break;
    }
  }
  if (assembling) return Rejected("got end of file during item");
  if (items == 0) return Rejected("no item");
  return Result{Outcome::kAccepted, ""};
}

}  // namespace

Result DecodeSpawnStream(std::string_view bytes) {
  // platform's ReadHeaderLine: fewer than kMaxSpawnHeader bytes, then '\n'.
  // (The key before it is compared, not decoded: these bytes are what
  // follows a key that matched.)
  const std::size_t newline = bytes.find('\n');
  if (newline == std::string_view::npos ||
      newline >= platform::internal::kMaxSpawnHeader) {
    return Rejected("no header line");
  }
  absl::StatusOr<platform::internal::SpawnHeader> header =
      platform::internal::ParseSpawnHeader(bytes.substr(0, newline));
  if (!header.ok()) return Rejected(std::string(header.status().message()));
  // ReadExactly(size): end of file before `size` bytes is an error; what
  // follows them is not read.
  const std::string_view rest = bytes.substr(newline + 1);
  if (rest.size() < header->size) return Rejected("truncated payload");
  const std::string payload(rest.substr(0, header->size));
  if (payload == internal::kForkServerMagic) {
    // RunSpawned: a fork server needs exactly one channel.
    if (header->handles.size() != 1) {
      return Rejected("a fork server needs exactly one channel");
    }
    return Result{Outcome::kAccepted, ""};
  }
  return RestoreAndRun(payload);
}

Result DecodeForkServerStream(std::string_view bytes) {
  // The first byte: how many descriptors the server received (the kernel may
  // drop some; the header says how many were sent).
  if (bytes.empty()) return Rejected("empty");
  const std::size_t received = static_cast<std::uint8_t>(bytes[0]);
  bytes.remove_prefix(1);
  const std::size_t header_size =
      platform::internal::EncodeForkServerRequest({}).size();
  // ReceiveHeader: exactly header_size bytes, or end of file.
  if (bytes.size() < header_size) return Rejected("truncated header");
  absl::StatusOr<platform::internal::ForkServerRequest> request =
      platform::internal::DecodeForkServerRequest(bytes.substr(0, header_size));
  if (!request.ok()) return Rejected(std::string(request.status().message()));
  if (request->kind == platform::internal::kForkServerSignal) {
    if (received != 0) return Rejected("descriptors with a signal request");
    return Result{Outcome::kAccepted, ""};
  }
  if (received != request->handles) {
    return Rejected("the descriptors received are not those the header says");
  }
  std::string_view rest = bytes.substr(header_size);
  // One byte per further batch of descriptors, then the payload.
  const std::size_t batches =
      platform::internal::ForkServerHandleBatches(request->handles);
  if (rest.size() < batches) return Rejected("truncated descriptor batches");
  rest.remove_prefix(batches);
  if (rest.size() < request->size) return Rejected("truncated payload");
  return RestoreAndRun(std::string(rest.substr(0, request->size)));
}

Result DecodeMessageStream(std::string_view bytes) {
  if (bytes.empty()) return Rejected("no framing byte");
  const bool records = (static_cast<unsigned char>(bytes[0]) & 1) != 0;
  bytes.remove_prefix(1);
  // ParseValue returns errors as values: an exception escaping here is a bug
  // (libFuzzer reports it as a crash).
  return records ? DecodeRecords(bytes) : DecodeFrames(bytes);
}

}  // namespace procspec::fuzz
