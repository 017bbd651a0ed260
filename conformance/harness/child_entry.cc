#include "conformance/harness/child_entry.h"

#include <cstdio>
#include <cstdlib>
#include <map>

#include "absl/strings/str_cat.h"
#include "conformance/harness/environment.h"

namespace conformance {
namespace {

std::map<std::string, ChildEntry, std::less<>>& Entries() {
  static auto* entries = new std::map<std::string, ChildEntry, std::less<>>;
  return *entries;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ChildCommand(
    absl::string_view name, const std::vector<std::string>& args) {
  if (internal::FindChildEntry(name) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("no CONFORMANCE_CHILD_ENTRY(", name, ")"));
  }
  std::vector<std::string> extra = {absl::StrCat("--child=", name)};
  extra.insert(extra.end(), args.begin(), args.end());
  return SelfCommand(extra);
}

namespace internal {

bool RegisterChildEntry(const char* name, ChildEntry entry) {
  if (!Entries().emplace(name, entry).second) {
    // Static initialisation: no test is running yet to report this to.
    std::fprintf(stderr, "CONFORMANCE_CHILD_ENTRY(%s) is defined twice\n",
                 name);
    std::abort();
  }
  return true;
}

ChildEntry FindChildEntry(absl::string_view name) {
  auto it = Entries().find(name);
  return it == Entries().end() ? nullptr : it->second;
}

}  // namespace internal
}  // namespace conformance
