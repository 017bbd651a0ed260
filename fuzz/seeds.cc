#include "fuzz/seeds.h"

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "fuzz/registered.h"
#include "platform/internal/wire.h"
#include "platform/platform.h"
#include "process/connection.h"
#include "process/frame.h"
#include "process/internal/bootstrap.h"
#include "process/internal/forkserver.h"
#include "process/process.h"

namespace procspec::fuzz {
namespace {

using Factory = std::function<std::unique_ptr<Process>()>;

// The Processes the seeds describe, by name.
std::map<std::string, Factory> Cases() {
  return {
      {"no_target", [] { return std::make_unique<Process>(); }},
      {"no_args",
       [] {
         return std::make_unique<Process>(NoArgs, Options{.name = "plain"});
       }},
      {"scalars",
       [] {
         return std::make_unique<Process>(
             Scalars,
             std::tuple{std::string("p1"), std::int64_t{-7}, 2.5, true},
             Options{.name = "scalars", .daemon = true});
       }},
      {"containers",
       [] {
         return std::make_unique<Process>(
             Containers, std::tuple{std::vector<std::string>{"a", "bc", ""},
                                    std::map<std::string, std::int32_t>{
                                        {"x", 1}, {"y", -2}},
                                    std::optional<std::tuple<int, std::string>>(
                                        std::tuple{3, std::string("three")})});
       }},
      {"kwargs",
       [] {
         return std::make_unique<Process>(
             WithKwargs, std::tuple{std::string("race")},
             Options{.kwargs = Kwargs{{"name", "race"},
                                      {"age", 23},
                                      {"ratio", 0.5},
                                      {"flag", false},
                                      {"none", nullptr}}});
       }},
      {"no_handle",
       [] {
         return std::make_unique<Process>(WithHandle,
                                          std::tuple{InheritedHandle()});
       }},
      {"class",
       [] {
         return std::make_unique<FuzzProcess>(
             std::vector<std::int64_t>{1, -2, 1 << 30}, "state",
             Options{.name = "fuzz-class"});
       }},
  };
}

std::string PayloadOf(Process& process, const std::string& method,
                      std::vector<platform::NativeHandle>* handles) {
  std::string token;
  absl::StatusOr<std::string> payload =
      internal::Bootstrap::SpawnPayload(process, method, &token, handles);
  if (!payload.ok()) {
    std::cerr << "make_seed_corpus: " << payload.status() << "\n";
    std::abort();
  }
  return *std::move(payload);
}

std::string SpawnStream(const std::string& payload,
                        const std::vector<platform::NativeHandle>& handles,
                        bool die_with_parent) {
  platform::internal::SpawnHeader header;
  header.backend = "linux";
  header.parent = platform::CurrentPid();
  header.die_with_parent = die_with_parent;
  header.size = payload.size();
  for (platform::NativeHandle handle : handles)
    header.handles.push_back(static_cast<int>(handle));
  header.handoff = "5 6";
  return platform::internal::FormatSpawnHeader(header) + payload;
}

}  // namespace

std::map<std::string, std::string> SpawnSeeds() {
  std::map<std::string, std::string> seeds;
  bool die = false;
  for (auto& [name, make] : Cases()) {
    std::unique_ptr<Process> process = make();
    std::vector<platform::NativeHandle> handles;
    const std::string payload = PayloadOf(*process, "spawn", &handles);
    seeds[name] = SpawnStream(payload, handles, die);
    die = !die;
  }
  // What a parent sends a fork server it spawns: the magic, one channel.
  seeds["fork_server"] = SpawnStream(internal::kForkServerMagic, {3}, false);
  return seeds;
}

std::map<std::string, std::string> ForkServerSeeds() {
  std::map<std::string, std::string> seeds;
  for (auto& [name, make] : Cases()) {
    std::unique_ptr<Process> process = make();
    std::vector<platform::NativeHandle> handles;
    const std::string payload = PayloadOf(*process, "forkserver", &handles);
    // The status pipe and the parent watch, then the passed descriptors (one
    // batch: no marker bytes).
    const std::size_t handle_count = 2 + handles.size();
    platform::internal::ForkServerRequest request;
    request.size = payload.size();
    request.requester = platform::CurrentPid();
    request.handles = handle_count;
    seeds[name] = std::string(1, static_cast<char>(handle_count)) +
                  platform::internal::EncodeForkServerRequest(request) +
                  payload;
    if (name == "no_args") {
      // The same request asking that the child die with the requester.
      request.flags = platform::internal::kForkServerDieWithRequester;
      seeds["die_with_requester"] =
          std::string(1, static_cast<char>(handle_count)) +
          platform::internal::EncodeForkServerRequest(request) + payload;
    }
  }
  // A signal request (SIGTERM to pid 42): no descriptors, no payload.
  platform::internal::ForkServerRequest signal;
  signal.requester = platform::CurrentPid();
  signal.kind = platform::internal::kForkServerSignal;
  signal.target = 42;
  signal.signal = 15;
  seeds["signal"] = std::string(1, '\0') +
                    platform::internal::EncodeForkServerRequest(signal);
  return seeds;
}

namespace {

// One value message body, as Connection::send() and Queue::put() make it.
template <typename T>
std::string Body(const T& value) {
  std::string body;
  if (!connection_internal::AppendValue(body, value).ok()) std::abort();
  return body;
}

// Framing byte 0 (Pipe) then one frame.
std::string PipeStream(const std::string& body) {
  std::string stream(1, '\0');
  frame::AppendFrame(stream, body);
  return stream;
}

// Framing byte 1 (Queue) then one item as records of at most `limit` bytes.
std::string QueueStream(const std::string& body, std::size_t limit) {
  std::string stream(1, '\1');
  frame::AppendRecords(stream, body, limit);
  return stream;
}

}  // namespace

std::map<std::string, std::string> MessageSeeds() {
  const std::tuple<int, std::string, double, bool> mixed{3, "three", 0.5, true};
  const Kwargs kwargs{{"name", "race"}, {"age", 23}, {"none", nullptr}};
  return {
      {"pipe_string", PipeStream(Body(std::string("hello")))},
      {"pipe_int", PipeStream(Body(std::int64_t{-7}))},
      {"pipe_vector", PipeStream(Body(std::vector<std::int32_t>{1, 2, 3}))},
      {"pipe_map", PipeStream(Body(std::map<std::string, std::int32_t>{
                       {"x", 1}, {"y", -2}}))},
      {"pipe_tuple", PipeStream(Body(mixed))},
      {"pipe_optional", PipeStream(Body(std::optional<std::string>("o")))},
      {"pipe_kwargs", PipeStream(Body(kwargs))},
      {"queue_string", QueueStream(Body(std::string("hello")), 4096)},
      {"queue_tuple_split", QueueStream(Body(mixed), 12)},
      {"queue_kwargs_split", QueueStream(Body(kwargs), 16)},
  };
}

}  // namespace procspec::fuzz
