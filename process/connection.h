// CPython's multiprocessing.Pipe and Connection: two connected ends that carry
// whole messages between processes.
//
//   PROCSPEC_TARGET(worker);  // void worker(procspec::Connection conn)
//   auto [parent_end, child_end] = *procspec::Pipe();
//   procspec::Process p(worker, std::tuple{child_end});
//   ...
//   absl::Status sent = parent_end.send(std::vector<int>{1, 2, 3});
//   absl::StatusOr<std::string> reply = parent_end.recv<std::string>();
//
// Pipe(duplex=true) gives two ends that both send and receive; Pipe(false)
// gives (reader, writer) as CPython does. Messages are framed as CPython
// frames them (process/frame.h). send()/recv<T>() carry one value serialized
// with cereal (the serialization of the spawn start method); the body also
// names the value's type, so that a recv<T>() of a message that is not a T
// fails with UnpicklingError instead of misreading it. send_bytes() and
// recv_bytes() carry raw bytes.
//
// A Connection is a cheap copyable handle: copies (including the child's
// argument under fork) share one end, and close() closes it for all of them;
// the last copy to go closes its descriptors. It is a Process argument under
// fork, spawn and forkserver (its descriptors are passed as InheritedHandles
// are, and the child's copy owns them). Not thread-safe: as in CPython, two
// threads must not use one end at once.
//
// Errors (CPython 3.11's types and texts, see process/errors.h): OSError
// "handle is closed", "connection is read-only", "connection is write-only",
// "bad message length" (recv_bytes with a maxlength shorter than the message;
// the end is closed then, as in CPython), "got end of file during message"
// (the peer went away in the middle of a message: never a half message);
// EOFError when the peer has gone and nothing is left to read;
// BrokenPipeError "[Errno 32] Broken pipe" when sending to a peer that has
// gone. Making a Pipe sets SIGPIPE to "ignore" unless the program set a
// handler of its own (CPython ignores it at start-up), so that a send to a
// gone peer is an error, not the end of the process.
//
// Deviation: a duplex Pipe is two pipes (each end holds a read end and a write
// end), not a socketpair as in CPython on Unix: a pipe round trip costs half
// of a unix socket's on Linux. fileno() is the descriptor a reader waits on
// (the read end; the write end for a write-only connection).
#ifndef PROCSPEC_PROCESS_CONNECTION_H_
#define PROCSPEC_PROCESS_CONNECTION_H_

#include <cereal/archives/binary.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <streambuf>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "platform/platform.h"
#include "process/errors.h"
#include "process/spawn.h"
#include "process/spawn_archive.h"

namespace procspec {

namespace connection_internal {

// A streambuf that appends what cereal writes to a std::string.
class StringSink : public std::streambuf {
 public:
  void set(std::string* out) { out_ = out; }

 protected:
  std::streamsize xsputn(const char* data, std::streamsize size) override {
    out_->append(data, static_cast<std::size_t>(size));
    return size;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof()))
      out_->push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string* out_ = nullptr;
};

// Streams kept per thread: making a std::ostream or std::istream costs more
// than serializing a small value. `busy` guards against reentrance (a value
// whose serialization sends a value).
struct OutStream {
  StringSink sink;
  std::ostream stream{&sink};
  bool busy = false;
};
OutStream& ThreadOutStream();

// A value message's body: kValueMarker, the 8-byte tag of its type, then the
// cereal bytes.
inline constexpr char kValueMarker = '\xC7';
inline constexpr std::size_t kValuePrefixSize = 9;

// A hash of the type's name in this binary (every process of a program runs
// the same binary).
std::uint64_t TypeTag(const std::type_info& type);

// Appends the value prefix of `tag` to `out`.
void AppendValuePrefix(std::string& out, std::uint64_t tag);

// The cereal bytes of a value body if it carries `tag`; else UnpicklingError
// naming `type`.
absl::StatusOr<std::string_view> ValuePayload(std::string_view body,
                                              std::uint64_t tag,
                                              const std::type_info& type);

template <typename T>
std::uint64_t TagOf() {
  static const std::uint64_t tag = TypeTag(typeid(T));
  return tag;
}

// Serializes `value` onto the end of `out`; PicklingError if cereal throws.
template <typename T>
absl::Status AppendValue(std::string& out, const T& value) {
  AppendValuePrefix(out, TagOf<T>());
  OutStream& cached = ThreadOutStream();
  std::optional<OutStream> own;
  OutStream& s = cached.busy ? own.emplace() : cached;
  s.busy = true;
  s.sink.set(&out);
  s.stream.clear();
  absl::Status status;
  try {
    cereal::BinaryOutputArchive archive(s.stream);
    archive(value);
  } catch (const std::exception& error) {
    status = PicklingError(error.what());
  }
  s.busy = false;
  return status;
}

absl::Status TrailingBytesError(const std::type_info& type);

// Deserializes a value body made by AppendValue<T>. The bytes come from
// another process and are not trusted: they are read with the bounded archive
// of spawn (process/spawn_archive.h), so a forged container length is an
// UnpicklingError rather than an allocation of up to 2^64 bytes.
template <typename T>
absl::StatusOr<T> ParseValue(std::string_view body) {
  absl::StatusOr<std::string_view> payload =
      ValuePayload(body, TagOf<T>(), typeid(T));
  if (!payload.ok()) return payload.status();
  try {
    T value{};
    spawn_internal::BoundedBinaryInputArchive archive(*payload);
    archive(value);
    if (archive.remaining() != 0) return TrailingBytesError(typeid(T));
    return value;
  } catch (const std::exception& error) {
    return UnpicklingError(error.what());
  }
}

}  // namespace connection_internal

class Connection {
 public:
  // A closed connection.
  Connection() = default;

  // CPython's closed, readable, writable.
  bool closed() const;
  // readable() turns false when a too-long message was refused on a duplex
  // end (see recv_bytes).
  bool readable() const;
  bool writable() const { return writable_; }

  // The descriptor to wait on (see the deviation above); OSError "handle is
  // closed".
  absl::StatusOr<platform::NativeHandle> fileno() const;

  // Closes this end (every copy of it). Closing a closed one does nothing.
  void close();

  // Sends one value, in one write (a message longer than 64 KiB: two).
  template <typename T>
  absl::Status send(const T& value) {
    static_assert(spawn_internal::kSerializable<T>,
                  "Connection::send: the value must be serializable with "
                  "cereal");
    std::string* out = nullptr;
    if (absl::Status status = BeginSend(&out); !status.ok()) return status;
    if (absl::Status status = connection_internal::AppendValue(*out, value);
        !status.ok())
      return status;
    return FinishSend();
  }

  // Receives one value sent with send() of a T. Blocks until a whole message
  // is there. UnpicklingError if the message is not a T (the message is
  // consumed).
  template <typename T>
  absl::StatusOr<T> recv() {
    static_assert(spawn_internal::kSerializable<T>,
                  "Connection::recv: the value must be serializable with "
                  "cereal");
    absl::StatusOr<std::string_view> body = ReceiveFrame(std::nullopt);
    if (!body.ok()) return body.status();
    return connection_internal::ParseValue<T>(*body);
  }

  // CPython's send_bytes(buf, offset=0, size=None): sends buf[offset:offset +
  // size] as one message. ValueError "offset is negative", "buffer length <
  // offset", "size is negative", "buffer length < offset + size".
  absl::Status send_bytes(std::string_view buffer, std::int64_t offset = 0,
                          std::optional<std::int64_t> size = std::nullopt);

  // CPython's recv_bytes(maxlength=None): one whole message. ValueError
  // "negative maxlength". A longer message than maxlength: OSError "bad
  // message length", and the end stops receiving: a read-only end is closed, a
  // duplex end stays open for sending and its receives fail with OSError
  // "connection is write-only" (the rest of the message is never read).
  absl::StatusOr<std::string> recv_bytes(
      std::optional<std::int64_t> maxlength = std::nullopt);

  // CPython's poll(timeout=0.0): whether there is something to read (a message,
  // part of one, or end of file) within `timeout` seconds; nullopt waits for
  // ever, a negative timeout is 0. Event-driven (poll on the descriptor); data
  // already read ahead counts.
  absl::StatusOr<bool> poll(std::optional<double> timeout = 0.0);

  template <class Archive>
  void save(Archive& archive) const {
    std::int64_t read = -1, write = -1;
    PassHandles(read, write);
    const bool can_read = readable();
    archive(read, write, can_read, writable_);
  }
  template <class Archive>
  void load(Archive& archive) {
    std::int64_t read = -1, write = -1;
    bool readable = false, writable = false;
    archive(read, write, readable, writable);
    Adopt(read, write, readable, writable);
  }

  struct State;

 private:
  friend absl::StatusOr<std::pair<Connection, Connection>> Pipe(bool duplex);
  Connection(std::shared_ptr<State> state, bool readable, bool writable);

  absl::Status CheckWritable() const;
  absl::Status CheckReadable() const;
  absl::Status BadMessageLength();
  absl::Status BeginSend(std::string** out);
  absl::Status FinishSend();
  // The body of the next whole message, valid until the next receive.
  absl::StatusOr<std::string_view> ReceiveFrame(
      std::optional<std::uint64_t> maxlength);
  void PassHandles(std::int64_t& read, std::int64_t& write) const;
  void Adopt(std::int64_t read, std::int64_t write, bool readable,
             bool writable);

  std::shared_ptr<State> state_;
  bool readable_ = false;
  bool writable_ = false;
};

// CPython's multiprocessing.Pipe(duplex=True): two connected ends; with
// duplex=false the first only receives and the second only sends. Fails with
// OSError if the OS is out of descriptors.
absl::StatusOr<std::pair<Connection, Connection>> Pipe(bool duplex = true);

namespace connection {
// multiprocessing.connection.wait: the handles among `handles` that are ready
// (a sentinel whose process ended, a Connection's fileno() with data or end of
// file), waiting up to `timeout` seconds for at least one (None: for ever).
absl::StatusOr<std::vector<platform::NativeHandle>> wait(
    const std::vector<platform::NativeHandle>& handles,
    std::optional<double> timeout = std::nullopt);
}  // namespace connection

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_CONNECTION_H_
