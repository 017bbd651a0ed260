#include "platform/internal/wire.h"

#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace procspec::platform::internal {

std::string NewSpawnKey() {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::random_device random;
  std::string key;
  while (key.size() < kSpawnKeySize) {
    const unsigned int bits = random();
    for (int shift = 0; shift < 32 && key.size() < kSpawnKeySize; shift += 4)
      key.push_back(kDigits[(bits >> shift) & 0xf]);
  }
  return key;
}

std::string FormatSpawnMarker(const SpawnMarker& marker) {
  return absl::StrCat(marker.fd, ":", marker.key);
}

std::optional<SpawnMarker> ParseSpawnMarker(std::string_view value) {
  const std::size_t colon = value.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  SpawnMarker marker;
  const std::string_view key = value.substr(colon + 1);
  if (!absl::SimpleAtoi(absl::string_view(value.data(), colon), &marker.fd) ||
      marker.fd < 0 || key.size() != kSpawnKeySize ||
      key.find_first_not_of("0123456789abcdef") != std::string_view::npos) {
    return std::nullopt;
  }
  marker.key = std::string(key);
  return marker;
}

bool SpawnKeysEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    differ |= static_cast<unsigned char>(a[i] ^ b[i]);
  return differ == 0;
}

std::string FormatSpawnHeader(const SpawnHeader& header) {
  return absl::StrCat(
      "procspec-spawn 1 ", header.backend, " ", header.parent, " ",
      header.die_with_parent ? 1 : 0, " ", header.size, " ",
      header.handles.empty() ? "-" : absl::StrJoin(header.handles, ","), " ",
      header.handoff, "\n");
}

absl::StatusOr<SpawnHeader> ParseSpawnHeader(std::string_view line) {
  const absl::string_view text(line.data(), line.size());
  std::vector<absl::string_view> fields =
      absl::StrSplit(text, absl::MaxSplits(' ', 7));
  SpawnHeader header;
  int die = 0;
  if (line.size() > kMaxSpawnHeader || fields.size() != 8 ||
      fields[0] != "procspec-spawn" || fields[1] != "1" ||
      !absl::SimpleAtoi(fields[3], &header.parent) || header.parent <= 0 ||
      !absl::SimpleAtoi(fields[4], &die) || (die != 0 && die != 1) ||
      !absl::SimpleAtoi(fields[5], &header.size) ||
      header.size > kMaxSpawnPayload) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a procspec bootstrap header: '", text, "'"));
  }
  header.backend = std::string(fields[2]);
  header.die_with_parent = die == 1;
  if (fields[6] != "-") {
    for (absl::string_view number : absl::StrSplit(fields[6], ',')) {
      int fd = -1;
      if (!absl::SimpleAtoi(number, &fd) || fd < 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad handle list '", fields[6], "'"));
      }
      header.handles.push_back(fd);
    }
  }
  header.handoff = std::string(fields[7]);
  return header;
}

namespace {

// The request header: seven 8-byte fields.
constexpr std::size_t kRequestSizeAt = 0;
constexpr std::size_t kRequestRequesterAt = 8;
constexpr std::size_t kRequestFlagsAt = 16;
constexpr std::size_t kRequestKindAt = 24;
constexpr std::size_t kRequestHandlesAt = 32;
constexpr std::size_t kRequestTargetAt = 40;
constexpr std::size_t kRequestSignalAt = 48;
constexpr std::size_t kForkServerRequestSize = 56;
static_assert(sizeof(ForkServerRequest::size) == 8 &&
              sizeof(ForkServerRequest::requester) == 8 &&
              sizeof(ForkServerRequest::flags) == 8 &&
              sizeof(ForkServerRequest::kind) == 8 &&
              sizeof(ForkServerRequest::handles) == 8 &&
              sizeof(ForkServerRequest::target) == 8 &&
              sizeof(ForkServerRequest::signal) == 8);

absl::Status Malformed(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed request: ", why));
}

}  // namespace

std::string EncodeForkServerRequest(const ForkServerRequest& request) {
  std::string bytes(kForkServerRequestSize, '\0');
  std::memcpy(bytes.data() + kRequestSizeAt, &request.size, 8);
  std::memcpy(bytes.data() + kRequestRequesterAt, &request.requester, 8);
  std::memcpy(bytes.data() + kRequestFlagsAt, &request.flags, 8);
  std::memcpy(bytes.data() + kRequestKindAt, &request.kind, 8);
  std::memcpy(bytes.data() + kRequestHandlesAt, &request.handles, 8);
  std::memcpy(bytes.data() + kRequestTargetAt, &request.target, 8);
  std::memcpy(bytes.data() + kRequestSignalAt, &request.signal, 8);
  return bytes;
}

absl::StatusOr<ForkServerRequest> DecodeForkServerRequest(
    std::string_view bytes) {
  ForkServerRequest request;
  if (bytes.size() != kForkServerRequestSize) {
    return Malformed(absl::StrCat("a header of ", bytes.size(), " bytes, not ",
                                  kForkServerRequestSize));
  }
  std::memcpy(&request.size, bytes.data() + kRequestSizeAt, 8);
  std::memcpy(&request.requester, bytes.data() + kRequestRequesterAt, 8);
  std::memcpy(&request.flags, bytes.data() + kRequestFlagsAt, 8);
  std::memcpy(&request.kind, bytes.data() + kRequestKindAt, 8);
  std::memcpy(&request.handles, bytes.data() + kRequestHandlesAt, 8);
  std::memcpy(&request.target, bytes.data() + kRequestTargetAt, 8);
  std::memcpy(&request.signal, bytes.data() + kRequestSignalAt, 8);
  if (request.requester <= 0)
    return Malformed(absl::StrCat("requester pid ", request.requester));
  if ((request.flags & ~kForkServerDieWithRequester) != 0)
    return Malformed(absl::StrCat("unknown flags ", request.flags));
  if (request.kind == kForkServerSignal) {
    if (request.size != 0 || request.handles != 0 || request.flags != 0) {
      return Malformed("a signal request with a payload, descriptors or flags");
    }
    if (request.target <= 0)
      return Malformed(absl::StrCat("target pid ", request.target));
    if (request.signal <= 0 || request.signal >= 128)
      return Malformed(absl::StrCat("signal number ", request.signal));
    return request;
  }
  if (request.kind != kForkServerFork)
    return Malformed(absl::StrCat("unknown kind ", request.kind));
  if (request.handles < 2 || request.handles > kMaxForkServerRequestHandles) {
    return Malformed(absl::StrCat(request.handles, " descriptors (2 to ",
                                  kMaxForkServerRequestHandles, " expected)"));
  }
  if (request.size > kMaxForkServerPayload) {
    return Malformed(absl::StrCat("a payload of ", request.size,
                                  " bytes (at most ", kMaxForkServerPayload,
                                  ")"));
  }
  if (request.target != 0 || request.signal != 0)
    return Malformed("a fork request with a signal");
  return request;
}

std::size_t ForkServerHandleBatches(std::uint64_t handles) {
  if (handles <= kForkServerHandlesPerMessage) return 0;
  return static_cast<std::size_t>((handles - kForkServerHandlesPerMessage +
                                   kForkServerHandlesPerMessage - 1) /
                                  kForkServerHandlesPerMessage);
}

}  // namespace procspec::platform::internal
