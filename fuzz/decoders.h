// The decoders a started child runs on bytes it receives, as functions over a
// byte span that never exit the process: what the libFuzzer targets of this
// package fuzz and what corpus_replay_test replays.
//
// A spawned child reads its bootstrap pipe: its key (compared with the one in
// its environment, not decoded, hence not fuzzed), a header line, a payload
// (platform/internal/wire.h), the payload being a spawn bootstrap
// (process/internal/bootstrap.h) or the fork server magic. A child forked by a
// fork server gets a request: a binary header, descriptors, then a spawn
// bootstrap. Each decoder below runs the same decoding steps, in the same
// order, as the child does (minus the system calls: descriptors are not
// adopted), then runs the restored Process's run(), which decodes the
// target's arguments and calls one of the no-op targets of registered.h.
#ifndef PROCSPEC_FUZZ_DECODERS_H_
#define PROCSPEC_FUZZ_DECODERS_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "process/value.h"

namespace procspec::fuzz {

enum class Outcome {
  kRejected,  // an error value (the child would exit 1 with the message)
  kAccepted,  // decoded, and run() returned
};

struct Result {
  Outcome outcome;
  // Why it was rejected; "" when accepted.
  std::string reason;
};

// The bytes of a spawned child's bootstrap pipe.
Result DecodeSpawnStream(std::string_view bytes);

// A fork server request as the fuzzers see it: one byte, the number of
// descriptors that came with the header (SCM_RIGHTS), then the header's
// bytes, then the payload.
Result DecodeForkServerStream(std::string_view bytes);

// Messages a Connection or a Queue receives from another process: the first
// byte chooses the framing (even: Pipe frames, process/frame.h's Decode; odd:
// Queue records, DecodeRecord, reassembled as a Queue's get() does), the rest
// is the byte stream. Each message's body is decoded as a typed value
// (connection_internal::ParseValue) of the MessageTypes below, the one its
// tag names. Accepted: at least one message, and every message decoded.
Result DecodeMessageStream(std::string_view bytes);

// The value types DecodeMessageStream decodes (and its seeds carry).
using MessageTypes =
    std::tuple<std::string, std::int64_t, std::vector<std::int32_t>,
               std::map<std::string, std::int32_t>,
               std::tuple<int, std::string, double, bool>,
               std::optional<std::string>, Kwargs>;

}  // namespace procspec::fuzz

#endif  // PROCSPEC_FUZZ_DECODERS_H_
