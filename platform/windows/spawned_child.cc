// The child's side of Backend::Spawn on Windows: the marker in the
// environment, and the bootstrap pipe it names (an inherited handle, whose
// value the marker carries). The bytes on the pipe are those of every
// backend (internal/wire.h).
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/internal/wire.h"
#include "platform/platform.h"
#include "platform/windows/win32.h"

namespace procspec::platform {
namespace {

// The bootstrap handle and key, if this process was spawned; read once. A
// malformed marker still marks a spawned child (fd -1): its bootstrap fails
// with a clear message.
std::optional<internal::SpawnMarker> TakeMarker() {
  static const std::optional<internal::SpawnMarker> marker =
      []() -> std::optional<internal::SpawnMarker> {
    const char* value = std::getenv(kSpawnMarkerVariable);
    if (value == nullptr) return std::nullopt;
    std::optional<internal::SpawnMarker> parsed =
        internal::ParseSpawnMarker(value);
    // Not inherited by this process's own children (Spawn also drops it from
    // the environment it passes).
    _putenv_s(kSpawnMarkerVariable, "");
    SetEnvironmentVariableW(windows::Widen(kSpawnMarkerVariable).c_str(),
                            nullptr);
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

// Takes over an inherited handle: not inheritable by this process's own
// children from now on.
absl::Status Adopt(int value) {
  if (value <= 0 ||
      !SetHandleInformation(windows::ToHandle(value), HANDLE_FLAG_INHERIT, 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("handle ", value, " is not open"));
  }
  return absl::OkStatus();
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
  for (int value : header->handles) {
    if (absl::Status s = Adopt(value); !s.ok()) return s;
    handles.emplace_back(value);
  }
  absl::StatusOr<Backend*> backend = GetBackend(header->backend);
  if (!backend.ok()) return backend.status();
  if (absl::Status s = SelectBackend(header->backend); !s.ok()) return s;
  absl::StatusOr<std::string> payload = ReadExactly(channel, header->size);
  if (absl::IsOutOfRange(payload.status())) {
    return absl::OutOfRangeError(
        absl::StrCat("truncated bootstrap: ", payload.status().message()));
  }
  if (!payload.ok()) return payload.status();
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
  if (marker->fd <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(kSpawnMarkerVariable, " is not '<handle>:<key>'"));
  }
  if (absl::Status s = Adopt(marker->fd); !s.ok()) return s;
  absl::StatusOr<SpawnedContext> received = Receive(marker->fd, marker->key);
  UniqueHandle closed(marker->fd);  // whatever happened, the pipe is done with
  return received;
}

}  // namespace procspec::platform
