// Real bootstraps, made by the code a parent runs (Bootstrap::SpawnPayload,
// FormatSpawnHeader, EncodeForkServerRequest) for Processes of registered.h:
// the seed corpus of the fuzzers (make_seed_corpus writes them) and the
// inputs corpus_replay_test expects the decoders to accept.
#ifndef PROCSPEC_FUZZ_SEEDS_H_
#define PROCSPEC_FUZZ_SEEDS_H_

#include <map>
#include <string>

namespace procspec::fuzz {

// By file name: the bytes of a spawned child's bootstrap pipe.
std::map<std::string, std::string> SpawnSeeds();
// By file name: fork server requests, as DecodeForkServerStream reads them.
std::map<std::string, std::string> ForkServerSeeds();

// By file name: Pipe and Queue message streams, as DecodeMessageStream reads
// them (value messages made by Connection's and Queue's encoders).
std::map<std::string, std::string> MessageSeeds();

}  // namespace procspec::fuzz

#endif  // PROCSPEC_FUZZ_SEEDS_H_
