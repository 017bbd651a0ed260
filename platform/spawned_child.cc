// The child's side of Backend::Spawn: the marker in the environment, and the
// bootstrap pipe it names.
//
// The pipe carries the key, one header line, then the payload (the format,
// and its decoding, are in internal/wire.h).
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "platform/internal/port.h"
#include "platform/internal/wire.h"
#include "platform/platform.h"

namespace procspec::platform {
namespace {

// The bootstrap descriptor and key, if this process was spawned; read once.
// A malformed marker still marks a spawned child (fd -1): its bootstrap fails
// with a clear message.
std::optional<internal::SpawnMarker> TakeMarker() {
  static const std::optional<internal::SpawnMarker> marker =
      []() -> std::optional<internal::SpawnMarker> {
    const char* value = std::getenv(kSpawnMarkerVariable);
    if (value == nullptr) return std::nullopt;
    std::optional<internal::SpawnMarker> parsed =
        internal::ParseSpawnMarker(value);
    // Not inherited by this process's own children, forked or spawned.
    internal::UnsetEnvironmentVariable(kSpawnMarkerVariable);
    return parsed.has_value() ? *std::move(parsed) : internal::SpawnMarker{};
  }();
  return marker;
}

absl::StatusOr<std::string> ReadHeaderLine(NativeHandle channel) {
  std::string line;
  while (line.size() < internal::kMaxSpawnHeader) {
    absl::StatusOr<std::string> byte = ReadSome(channel, 1);
    if (!byte.ok()) return byte.status();
    if (byte->empty())
      return absl::OutOfRangeError("end of file in the bootstrap header");
    if ((*byte)[0] == '\n') return line;
    line += *byte;
  }
  return absl::InvalidArgumentError("bootstrap header too long");
}

absl::StatusOr<SpawnedContext> Receive(NativeHandle channel,
                                       const std::string& key) {
  // Before anything is decoded: the key the parent put in the environment.
  absl::StatusOr<std::string> sent =
      ReadExactly(channel, internal::kSpawnKeySize);
  if (!sent.ok() || !internal::SpawnKeysEqual(*sent, key)) {
    return absl::PermissionDeniedError(
        "the bootstrap does not come from this process's parent (the key on "
        "the bootstrap pipe is not the one in the environment)");
  }
  absl::StatusOr<std::string> line = ReadHeaderLine(channel);
  if (!line.ok()) return line.status();
  absl::StatusOr<internal::SpawnHeader> header =
      internal::ParseSpawnHeader(*line);
  if (!header.ok()) return header.status();
  std::vector<UniqueHandle> handles;
  for (int fd : header->handles) {
    // Not inherited again: it crossed one exec, not the next.
    if (absl::Status s = internal::StopInheriting(fd); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("handle ", fd, " is not open"));
    }
    handles.emplace_back(fd);
  }
  absl::StatusOr<Backend*> backend = GetBackend(header->backend);
  if (!backend.ok()) return backend.status();
  // The parent's backend, for this process and its own children.
  if (absl::Status s = SelectBackend(header->backend); !s.ok()) return s;
  // The size is the header's word: ReadExactly grows its buffer as the
  // payload arrives, so a size that is never sent costs nothing.
  absl::StatusOr<std::string> payload = ReadExactly(channel, header->size);
  if (absl::IsOutOfRange(payload.status())) {
    return absl::OutOfRangeError(
        absl::StrCat("truncated bootstrap: ", payload.status().message()));
  }
  if (!payload.ok()) return payload.status();
  // Not read to end of file: the size says where the payload ends, and the
  // payload's own framing says whether it is whole.
  absl::StatusOr<ChildContext> context = (*backend)->AdoptSpawned(
      header->handoff, header->parent, header->die_with_parent);
  if (!context.ok()) return context.status();
  return SpawnedContext{*std::move(payload), *std::move(context),
                        std::move(handles)};
}

}  // namespace

bool IsSpawnedChild() { return TakeMarker().has_value(); }

absl::StatusOr<SpawnedContext> ReceiveSpawnPayload() {
  static std::once_flag once;
  bool first = false;
  std::call_once(once, [&] { first = true; });
  if (!first)
    return absl::FailedPreconditionError("the bootstrap was already received");
  const std::optional<internal::SpawnMarker> marker = TakeMarker();
  if (!marker.has_value())
    return absl::FailedPreconditionError("not a spawned process");
  if (marker->fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(kSpawnMarkerVariable, " is not '<descriptor>:<key>'"));
  }
  absl::StatusOr<SpawnedContext> received = Receive(marker->fd, marker->key);
  UniqueHandle closed(marker->fd);  // whatever happened, the pipe is done with
  return received;
}

}  // namespace procspec::platform
