// The registries of spawn targets and Process classes, and the executable the
// spawn start method runs.
#include "process/spawn.h"

#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  // Name -> the file:line of every registration of a different function (or
  // class) under it, first one first.
  std::map<std::string, std::vector<std::string>, std::less<>> target_places
      ABSL_GUARDED_BY(mu);
  std::map<std::string, std::vector<std::string>, std::less<>> class_places
      ABSL_GUARDED_BY(mu);
};

// "" for a name registered once, else the sentence that says where.
std::string ConflictText(
    const std::map<std::string, std::vector<std::string>, std::less<>>& places,
    const std::string& name, const char* macro) {
  auto it = places.find(name);
  if (it == places.end() || it->second.size() < 2) return "";
  return absl::StrCat(it->second.size(), " different ", macro,
                      " registrations use the name '", name, "' (",
                      absl::StrJoin(it->second, ", "),
                      "): the child could not tell which to run; rename one");
}

Registry& GetRegistry() {
  static Registry* const registry = new Registry();
  return *registry;
}

}  // namespace

std::string TargetKey(std::string_view signature, const char* written,
                      std::string_view where) {
  // GCC: "... [with auto F = ns::task]"; Clang: "... [F = &ns::task]".
  std::string_view name;
  if (const std::size_t open = signature.rfind('[');
      open != std::string_view::npos) {
    if (const std::size_t equals = signature.find("F = ", open);
        equals != std::string_view::npos) {
      name = signature.substr(equals + 4);
      name = name.substr(0, name.find_first_of("];"));
      if (!name.empty() && name.front() == '&') name.remove_prefix(1);
    }
  }
  if (name.empty()) return written;
  if (name.find("anonymous") == std::string_view::npos)
    return std::string(name);
  std::string key(name);
  key += '@';
  key += where.substr(0, where.rfind(':'));
  return key;
}

void RegisterTarget(ErasedFunction function, const char* name,
                    const char* where, Invoker invoker) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  // The same function registered twice (a macro in a header) is one target.
  if (!registry.target_names.emplace(function, name).second) return;
  registry.invokers.emplace(name, invoker);
  registry.target_places[name].push_back(where);
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
  if (!ConflictText(registry.target_places, name, "").empty()) return nullptr;
  auto it = registry.invokers.find(name);
  return it == registry.invokers.end() ? nullptr : it->second;
}

void RegisterClass(const std::type_info& type, ClassEntry entry,
                   const char* where) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  if (registry.classes.count(std::type_index(type)) != 0) return;
  registry.class_names.emplace(entry.name, std::type_index(type));
  registry.class_places[entry.name].push_back(where);
  registry.classes.emplace(std::type_index(type), std::move(entry));
}

std::string TargetConflict(const std::string& name) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  return ConflictText(registry.target_places, name, "PROCSPEC_TARGET");
}

std::string ClassConflict(const std::string& name) {
  Registry& registry = GetRegistry();
  std::lock_guard<std::mutex> lock(registry.mu);
  return ConflictText(registry.class_places, name, "PROCSPEC_PROCESS_CLASS");
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
  if (!ConflictText(registry.class_places, name, "").empty()) return nullptr;
  auto it = registry.class_names.find(name);
  if (it == registry.class_names.end()) return nullptr;
  return &registry.classes.at(it->second);
}

void ThrowUnexpectedKeyword(const Kwargs& kwargs) {
  throw TypeError(absl::StrCat("target() got an unexpected keyword argument '",
                               kwargs.begin()->first, "'"));
}

std::string DescribeUnsendableTarget(const std::string& type_name,
                                     const std::string& method) {
  return absl::StrCat("Can't pickle ", type_name, ": the ", method,
                      " start method sends only a function registered with "
                      "PROCSPEC_TARGET (not a lambda or function object)");
}

std::string DemangledName(const std::type_info& type) {
  return internal::DemangledTypeName(type);
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

}  // namespace procspec
