// The bytes that cross between procspec processes at start time, as pure
// functions over byte spans (no descriptor, no system call): the spawn
// bootstrap header a spawned child reads from its bootstrap pipe, and the
// header of a fork server request. The I/O around them lives in
// spawned_child.cc, posix_backend.cc and posix/fork_server.cc; keeping the
// decoding here lets //fuzz run it on arbitrary bytes.
#ifndef PROCSPEC_PLATFORM_INTERNAL_WIRE_H_
#define PROCSPEC_PLATFORM_INTERNAL_WIRE_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "platform/platform.h"

namespace procspec::platform::internal {

// ---- The spawn key: what tells a spawned child that the bytes on its
// bootstrap pipe come from its parent. The parent makes a fresh random key per
// child, passes it in the child's environment with the pipe's number
// (kSpawnMarkerVariable = "<descriptor>:<key>") and writes it first on the
// pipe; the child compares the two before it decodes anything else. Bytes from
// anything else (a descriptor reused, a file, a program that sets the
// variable by hand) are rejected. Another user's processes can read neither
// the environment nor the pipe (/proc/<pid>/environ and /proc/<pid>/fd need
// ptrace access to the process): the key is not a defence against the same
// user, who can read both.
inline constexpr std::size_t kSpawnKeySize = 32;  // hex digits: 128 bits

// A fresh key: kSpawnKeySize lowercase hex digits from std::random_device.
std::string NewSpawnKey();

struct SpawnMarker {
  int fd = -1;
  std::string key;
};
// The variable's value: "<fd>:<key>".
std::string FormatSpawnMarker(const SpawnMarker& marker);
// nullopt unless `value` is a descriptor number >= 0, ':' and a key of
// kSpawnKeySize hex digits.
std::optional<SpawnMarker> ParseSpawnMarker(std::string_view value);
// Compares two keys in time independent of where they differ.
bool SpawnKeysEqual(std::string_view a, std::string_view b);

// ---- The spawn bootstrap header: after the key, one line, then `size` bytes
// of payload:
//   procspec-spawn 1 <backend> <parent pid> <die_with_parent 0|1> <size>
//   <handles> <handoff>\n
// where <handles> lists SpawnOptions::handles ("-" for none, else numbers
// joined by ','), and <handoff> is the backend's own part (its inherited
// descriptors), passed on to Backend::AdoptSpawned undecoded.
struct SpawnHeader {
  std::string backend;
  Pid parent = 0;
  bool die_with_parent = false;
  std::size_t size = 0;
  std::vector<int> handles;
  std::string handoff;
};

// The longest header line a child reads (without the newline): room for
// kMaxForkServerHandles descriptor numbers.
inline constexpr std::size_t kMaxSpawnHeader = 8192;
// Far above any real bootstrap; a larger size is garbage, not a reason to
// allocate.
inline constexpr std::size_t kMaxSpawnPayload = std::size_t{1} << 30;

// The header line, newline included.
std::string FormatSpawnHeader(const SpawnHeader& header);
// `line` without its newline. InvalidArgument, with the reason, for anything
// FormatSpawnHeader cannot have written (and for a parent pid <= 0 or a
// descriptor number < 0).
absl::StatusOr<SpawnHeader> ParseSpawnHeader(std::string_view line);

// ---- A fork server request: this header (native byte order: both ends are
// the same program on the same machine), then, for a fork request, `size`
// bytes of payload (a spawn bootstrap). A fork request's descriptors travel by
// SCM_RIGHTS: the first kForkServerHandlesPerMessage with the header, the
// others in batches of as many, each attached to one byte that follows the
// header (before the payload). They are {status pipe's write end,
// parent-watch pipe's read end, the descriptors passed to the child...}.
//
// A signal request (kForkServerSignal) asks the server to send `signal` to
// its child `target` unless it has reaped it already; it has no payload and
// no descriptors.
inline constexpr std::uint64_t kForkServerFork = 0;
inline constexpr std::uint64_t kForkServerSignal = 1;

struct ForkServerRequest {
  std::uint64_t size = 0;
  std::int64_t requester = 0;
  // kForkServerDieWithRequester, or 0; other bits are rejected.
  std::uint64_t flags = 0;
  std::uint64_t kind = kForkServerFork;
  // How many descriptors the request sends, in all.
  std::uint64_t handles = 0;
  // A signal request's child and signal number; 0 in a fork request.
  std::int64_t target = 0;
  std::int64_t signal = 0;
};

// The child is killed (SIGKILL) when the requester dies, however it dies
// (ForkOptions::die_with_parent, with the requester as the parent).
inline constexpr std::uint64_t kForkServerDieWithRequester = 1;

// The status pipe, the parent watch, and the handles passed to the child.
inline constexpr std::size_t kMaxForkServerRequestHandles =
    2 + kMaxForkServerHandles;
// Descriptors per SCM_RIGHTS message (Linux takes at most 253 in one).
inline constexpr std::size_t kForkServerHandlesPerMessage = 64;
// As kMaxSpawnPayload.
inline constexpr std::uint64_t kMaxForkServerPayload = std::uint64_t{1} << 30;

// The header's bytes.
std::string EncodeForkServerRequest(const ForkServerRequest& request);
// `bytes`: the header as received. InvalidArgument for a header of the wrong
// size, an unknown kind or flag, a requester pid <= 0; for a fork request a
// payload size above kMaxForkServerPayload, fewer than 2 or more than
// kMaxForkServerRequestHandles descriptors, or a target or signal; for a
// signal request a payload, descriptors, flags, a target pid <= 0 or a signal
// number outside 1..127.
absl::StatusOr<ForkServerRequest> DecodeForkServerRequest(
    std::string_view bytes);

// How many one-byte batch messages follow a header that sends `handles`
// descriptors.
std::size_t ForkServerHandleBatches(std::uint64_t handles);

}  // namespace procspec::platform::internal

#endif  // PROCSPEC_PLATFORM_INTERNAL_WIRE_H_
