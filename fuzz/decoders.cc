#include "fuzz/decoders.h"

#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "platform/internal/wire.h"
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
  if (bytes.empty()) return Rejected("empty");
  const std::size_t handle_count = static_cast<std::uint8_t>(bytes[0]);
  bytes.remove_prefix(1);
  const std::size_t header_size =
      platform::internal::EncodeForkServerRequest({}).size();
  // ReceiveHeader: exactly header_size bytes, or end of file.
  if (bytes.size() < header_size) return Rejected("truncated header");
  absl::StatusOr<platform::internal::ForkServerRequest> request =
      platform::internal::DecodeForkServerRequest(bytes.substr(0, header_size),
                                                  handle_count);
  if (!request.ok()) return Rejected(std::string(request.status().message()));
  const std::string_view rest = bytes.substr(header_size);
  if (rest.size() < request->size) return Rejected("truncated payload");
  return RestoreAndRun(std::string(rest.substr(0, request->size)));
}

}  // namespace procspec::fuzz
