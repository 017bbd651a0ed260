#include "process/connection.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "platform/platform.h"
#include "platform/stream.h"
#include "process/errors.h"
#include "process/frame.h"
#include "process/inherited_handle.h"
#include "process/internal/deadline.h"
#include "process/internal/type_name.h"

namespace procspec {

// The read-ahead buffer holds [start, end) of `in`: one read() takes as much
// as the pipe has (up to the buffer's size), so that a burst of messages costs
// one system call.
struct Connection::State {
  platform::UniqueHandle read;
  platform::UniqueHandle write;
  bool closed = false;
  // Set when a too-long message made a duplex end stop reading (CPython's
  // _bad_message_length clears _readable): shared, as the end is.
  bool read_disabled = false;
  std::string in;
  std::size_t start = 0;
  std::size_t end = 0;
  std::string out;  // The frame being sent, reused.
};

namespace {

constexpr std::size_t kReadAhead = 64 * 1024;
// A message larger than this is sent as header + body (two writes) rather
// than copied; buffers grown past it are released after use.
constexpr std::size_t kLargeMessage = 64 * 1024;

absl::Status HandleIsClosed() { return OSError("handle is closed"); }

absl::Status ErrnoStatus(int error) {
  if (error == platform::BrokenPipeErrno())
    return BrokenPipeError(platform::ErrnoText(error));
  return OSError(platform::ErrnoText(error));
}

// Connections adopted in this process (a spawn or forkserver child), by
// descriptor, so that two arguments naming one end share it.
struct Adopted {
  std::mutex mu;
  std::map<std::pair<platform::NativeHandle, platform::NativeHandle>,
           std::weak_ptr<Connection::State>>
      states;
};

Adopted& GetAdopted() {
  static auto* adopted = new Adopted;
  return *adopted;
}

}  // namespace

namespace connection_internal {

std::uint64_t TypeTag(const std::type_info& type) {
  // FNV-1a, 64 bits.
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char* p = type.name(); *p != '\0'; ++p) {
    hash ^= static_cast<unsigned char>(*p);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

OutStream& ThreadOutStream() {
  thread_local OutStream stream;
  return stream;
}

void AppendValuePrefix(std::string& out, std::uint64_t tag) {
  char prefix[kValuePrefixSize];
  prefix[0] = kValueMarker;
  for (int i = 0; i < 8; ++i)
    prefix[1 + i] = static_cast<char>((tag >> (8 * (7 - i))) & 0xff);
  out.append(prefix, sizeof(prefix));
}

absl::StatusOr<std::string_view> ValuePayload(std::string_view body,
                                              std::uint64_t tag,
                                              const std::type_info& type) {
  std::uint64_t got = 0;
  const bool is_value =
      body.size() >= kValuePrefixSize && body[0] == kValueMarker;
  if (is_value) {
    for (int i = 0; i < 8; ++i)
      got = (got << 8) | static_cast<unsigned char>(body[1 + i]);
  }
  if (!is_value || got != tag) {
    return UnpicklingError(absl::StrCat(
        "received a message that is not a ", internal::DemangledTypeName(type),
        is_value ? " (a value of another type)"
                 : " (not a value sent with send())"));
  }
  body.remove_prefix(kValuePrefixSize);
  return body;
}

absl::Status TrailingBytesError(const std::type_info& type) {
  return UnpicklingError(absl::StrCat("a ", internal::DemangledTypeName(type),
                                      " message has bytes after the value"));
}

}  // namespace connection_internal

Connection::Connection(std::shared_ptr<State> state, bool readable,
                       bool writable)
    : state_(std::move(state)), readable_(readable), writable_(writable) {}

bool Connection::closed() const { return state_ == nullptr || state_->closed; }

absl::StatusOr<platform::NativeHandle> Connection::fileno() const {
  if (closed()) return HandleIsClosed();
  return readable_ ? state_->read.get() : state_->write.get();
}

void Connection::close() {
  if (closed()) return;
  state_->closed = true;
  state_->read.reset();
  state_->write.reset();
  state_->in = std::string();
  state_->out = std::string();
  state_->start = state_->end = 0;
}

absl::Status Connection::CheckWritable() const {
  if (closed()) return HandleIsClosed();
  if (!writable_) return OSError("connection is read-only");
  return absl::OkStatus();
}

bool Connection::readable() const {
  return readable_ && (state_ == nullptr || !state_->read_disabled);
}

absl::Status Connection::CheckReadable() const {
  if (closed()) return HandleIsClosed();
  if (!readable()) return OSError("connection is write-only");
  return absl::OkStatus();
}

absl::Status Connection::BeginSend(std::string** out) {
  if (absl::Status status = CheckWritable(); !status.ok()) return status;
  std::string& frame = state_->out;
  frame.clear();
  frame.resize(frame::kShortHeaderSize);  // Filled in by FinishSend.
  *out = &frame;
  return absl::OkStatus();
}

absl::Status Connection::FinishSend() {
  std::string& frame = state_->out;
  const std::uint64_t body_size = frame.size() - frame::kShortHeaderSize;
  if (body_size > frame::kMaxShortBody) {
    frame.insert(0, frame::kLongHeaderSize - frame::kShortHeaderSize, '\0');
  }
  frame::WriteHeader(frame.data(), body_size);
  const platform::IoResult result =
      platform::WriteFully(state_->write.get(), frame);
  if (frame.capacity() > kLargeMessage) frame = std::string();
  if (result.error != 0) return ErrnoStatus(result.error);
  return absl::OkStatus();
}

absl::Status Connection::send_bytes(std::string_view buffer,
                                    std::int64_t offset,
                                    std::optional<std::int64_t> size) {
  if (absl::Status status = CheckWritable(); !status.ok()) return status;
  const auto length = static_cast<std::int64_t>(buffer.size());
  if (offset < 0) return ValueError("offset is negative");
  if (length < offset) return ValueError("buffer length < offset");
  if (!size.has_value()) {
    size = length - offset;
  } else if (*size < 0) {
    return ValueError("size is negative");
  } else if (offset + *size > length) {
    return ValueError("buffer length < offset + size");
  }
  const std::string_view body = buffer.substr(static_cast<std::size_t>(offset),
                                              static_cast<std::size_t>(*size));
  platform::IoResult result;
  if (body.size() > kLargeMessage) {
    // As CPython does for large messages: the header, then the body in place.
    char header[frame::kLongHeaderSize];
    const std::size_t header_size = frame::WriteHeader(header, body.size());
    result = platform::WriteFully(state_->write.get(),
                                  std::string_view(header, header_size));
    if (result.error == 0)
      result = platform::WriteFully(state_->write.get(), body);
  } else {
    std::string& frame = state_->out;
    frame.clear();
    frame::AppendFrame(frame, body);
    result = platform::WriteFully(state_->write.get(), frame);
  }
  if (result.error != 0) return ErrnoStatus(result.error);
  return absl::OkStatus();
}

absl::StatusOr<std::string_view> Connection::ReceiveFrame(
    std::optional<std::uint64_t> maxlength) {
  if (absl::Status status = CheckReadable(); !status.ok()) return status;
  State& s = *state_;
  while (true) {
    const frame::Decoded decoded =
        frame::Decode(std::string_view(s.in.data() + s.start, s.end - s.start));
    if (decoded.kind == frame::Decoded::Kind::kBadLength ||
        (decoded.header_known && maxlength.has_value() &&
         decoded.body_size > *maxlength)) {
      return BadMessageLength();
    }
    if (decoded.kind == frame::Decoded::Kind::kFrame) {
      const std::string_view body(s.in.data() + s.start + decoded.body_offset,
                                  decoded.body_size);
      s.start += decoded.body_offset + decoded.body_size;
      if (s.start == s.end) s.start = s.end = 0;
      return body;
    }
    // Room for the next read. The buffer grows as bytes arrive, never to a
    // length a header announced: when it is full, by what it holds (doubling)
    // or a read-ahead, whichever is more, up to what the frame needs.
    const auto needed = static_cast<std::size_t>(decoded.needed);
    if (s.start > 0 &&
        (s.in.size() - s.start < needed || s.end == s.in.size())) {
      std::memmove(s.in.data(), s.in.data() + s.start, s.end - s.start);
      s.end -= s.start;
      s.start = 0;
    }
    if (s.end == s.in.size()) {
      const std::size_t grown = s.in.size() + std::max(kReadAhead, s.in.size());
      try {
        s.in.resize(std::max(kReadAhead, std::min(needed, grown)));
      } catch (const std::exception&) {
        return BadMessageLength();
      }
    }
    const platform::IoResult got = platform::ReadInto(
        s.read.get(), s.in.data() + s.end, s.in.size() - s.end);
    if (got.error != 0) return ErrnoStatus(got.error);
    if (got.bytes == 0) {
      const bool partial = s.end > s.start;
      // Nothing more will come: release what a truncated frame grew.
      s.in = std::string();
      s.start = s.end = 0;
      if (partial) return OSError("got end of file during message");
      return EOFError();
    }
    s.end += got.bytes;
  }
}

absl::Status Connection::BadMessageLength() {
  // CPython's _bad_message_length: a read-only end is closed; a duplex end
  // stays open for sending and stops receiving ("connection is write-only"
  // afterwards). The rest of the message is never read: its buffered part is
  // released, and what is still in the pipe stays there.
  if (!writable_) {
    close();
  } else {
    state_->read_disabled = true;
    state_->in = std::string();
    state_->start = state_->end = 0;
  }
  return OSError("bad message length");
}

absl::StatusOr<std::string> Connection::recv_bytes(
    std::optional<std::int64_t> maxlength) {
  if (maxlength.has_value() && *maxlength < 0)
    return ValueError("negative maxlength");
  std::optional<std::uint64_t> limit;
  if (maxlength.has_value()) limit = static_cast<std::uint64_t>(*maxlength);
  absl::StatusOr<std::string_view> body = ReceiveFrame(limit);
  if (!body.ok()) return body.status();
  std::string copy(*body);
  // Release a buffer a large message grew, once it is empty.
  if (state_->start == state_->end && state_->in.size() > kLargeMessage)
    state_->in = std::string();
  return copy;
}

absl::StatusOr<bool> Connection::poll(std::optional<double> timeout) {
  if (absl::Status status = CheckReadable(); !status.ok()) return status;
  absl::StatusOr<absl::Time> deadline = internal::TimeoutDeadline(timeout);
  if (!deadline.ok()) return deadline.status();
  if (state_->end > state_->start) return true;
  const platform::NativeHandle handles[] = {state_->read.get()};
  absl::StatusOr<std::vector<std::size_t>> ready =
      platform::WaitReadable(handles, *deadline);
  if (!ready.ok()) return OSError(ready.status().message());
  return !ready->empty();
}

void Connection::PassHandles(std::int64_t& read, std::int64_t& write) const {
  if (closed()) return;  // A closed connection arrives closed.
  read = spawn_internal::PassHandle(state_->read.get());
  write = spawn_internal::PassHandle(state_->write.get());
}

void Connection::Adopt(std::int64_t read, std::int64_t write, bool readable,
                       bool writable) {
  readable_ = readable;
  writable_ = writable;
  state_ = nullptr;
  const platform::NativeHandle read_handle =
      spawn_internal::ReceivedHandle(read);
  const platform::NativeHandle write_handle =
      spawn_internal::ReceivedHandle(write);
  if (read_handle == platform::kInvalidHandle &&
      write_handle == platform::kInvalidHandle)
    return;
  Adopted& adopted = GetAdopted();
  std::lock_guard<std::mutex> lock(adopted.mu);
  std::weak_ptr<State>& entry = adopted.states[{read_handle, write_handle}];
  std::shared_ptr<State> state = entry.lock();
  if (state == nullptr || state->closed) {
    state = std::make_shared<State>();
    state->read.reset(read_handle);
    state->write.reset(write_handle);
    entry = state;
  }
  state_ = std::move(state);
}

absl::StatusOr<std::pair<Connection, Connection>> Pipe(bool duplex) {
  platform::IgnoreBrokenPipeSignal();
  absl::StatusOr<platform::PipeEnds> first = platform::MakePipe();
  if (!first.ok()) return OSError(first.status().message());
  auto a = std::make_shared<Connection::State>();
  auto b = std::make_shared<Connection::State>();
  if (!duplex) {
    a->read = std::move(first->read);
    b->write = std::move(first->write);
    return std::make_pair(Connection(std::move(a), true, false),
                          Connection(std::move(b), false, true));
  }
  absl::StatusOr<platform::PipeEnds> second = platform::MakePipe();
  if (!second.ok()) return OSError(second.status().message());
  a->read = std::move(first->read);
  b->write = std::move(first->write);
  b->read = std::move(second->read);
  a->write = std::move(second->write);
  return std::make_pair(Connection(std::move(a), true, true),
                        Connection(std::move(b), true, true));
}

}  // namespace procspec
