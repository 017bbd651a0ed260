// The registries of spawn targets and Process classes, and the main guard.
#include "process/spawn.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "platform/platform.h"
#include "process/context.h"
#include "process/internal/bootstrap.h"
#include "process/internal/forkserver.h"
#include "process/internal/type_name.h"
#include "process/process.h"

namespace procspec {
namespace spawn_internal {
namespace {

// Filled by static initializers (the macros), read afterwards; never
// destroyed, so that a late lookup never sees it torn down.
struct Registry {
  std::mutex mu;
  std::map<ErasedFunction, std::string> target_names ABSL_GUARDED_BY(mu);
  std::map<std::string, Invoker, std::less<>> invokers ABSL_GUARDED_BY(mu);
  std::map<std::type_index, ClassEntry> classes ABSL_GUARDED_BY(mu);
  std::map<std::string, std::type_index, std::less<>> class_names
      ABSL_GUARDED_BY(mu);
};

Registry& GetRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

}  // namespace

void RegisterTarget(ErasedFunction function, const char* name,
                    Invoker invoker) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  registry.target_names.emplace(function, name);
  registry.invokers.emplace(name, invoker);
}

const std::string* FindTargetName(ErasedFunction function) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  auto it = registry.target_names.find(function);
  return it == registry.target_names.end() ? nullptr : &it->second;
}

Invoker FindInvoker(const std::string& name) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  auto it = registry.invokers.find(name);
  return it == registry.invokers.end() ? nullptr : it->second;
}

void RegisterClass(const std::type_info& type, ClassEntry entry) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  registry.class_names.emplace(entry.name, std::type_index(type));
  registry.classes.emplace(std::type_index(type), std::move(entry));
}

const ClassEntry* FindClass(const std::type_info& type) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  auto it = registry.classes.find(std::type_index(type));
  return it == registry.classes.end() ? nullptr : &it->second;
}

const ClassEntry* FindClass(const std::string& name) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  auto it = registry.class_names.find(name);
  if (it == registry.class_names.end()) return nullptr;
  return &registry.classes.at(it->second);
}

void ThrowUnexpectedKeyword(const Kwargs& kwargs) {
  throw TypeError(absl::StrCat("target() got an unexpected keyword argument '",
                               kwargs.begin()->first, "'"));
}

std::string DescribeUnsendableTarget(const std::type_info& type) {
  return absl::StrCat(
      "Can't pickle ", internal::DemangledTypeName(type),
      ": the spawn start method sends only a function registered with "
      "PROCSPEC_TARGET (not a lambda or function object)");
}

std::string DescribeUnsendableArgument(std::size_t index,
                                       const std::type_info& type) {
  return absl::StrCat("Can't pickle argument ", index, " of type ",
                      internal::DemangledTypeName(type),
                      ": cereal cannot serialize it");
}

}  // namespace spawn_internal

namespace {

struct Executable {
  std::mutex mu;
  std::string path ABSL_GUARDED_BY(mu);
};

Executable& GetExecutable() {
  static Executable* const executable = new Executable();
  return *executable;
}

}  // namespace

void set_executable(std::string path) {
  Executable& executable = GetExecutable();
  std::lock_guard<std::mutex> lock(executable.mu);
  executable.path = std::move(path);
}

std::string get_executable() {
  Executable& executable = GetExecutable();
  std::lock_guard<std::mutex> lock(executable.mu);
  return executable.path;
}

void Init(int argc, char** argv, InitOptions options) {
  // Where the spawn start method finds this program (sys.executable).
  if (argc > 0 && argv != nullptr) platform::RecordProgramPath(argv[0]);
  if (platform::IsSpawnedChild()) internal::Bootstrap::RunSpawned();
  if (options.start_forkserver ||
      get_start_method(/*allow_none=*/true) == "forkserver") {
    // A failure is not fatal: the first forkserver start() starts a server
    // (a fresh run of the program) and reports what goes wrong then.
    (void)internal::ForkServers::ForkNow();
  }
}

}  // namespace procspec
