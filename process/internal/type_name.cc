#include "process/internal/type_name.h"

#include <cstdlib>
#include <memory>
#include <string>

// The Itanium C++ ABI's demangler ships with the C++ runtime (libstdc++,
// libc++); MSVC's type_info::name() is already readable.
#if __has_include(<cxxabi.h>)
#include <cxxabi.h>
#define PROCSPEC_HAVE_CXXABI 1
#endif

namespace procspec::internal {

std::string DemangledTypeName(const std::type_info& type) {
#ifdef PROCSPEC_HAVE_CXXABI
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), &std::free);
  if (status == 0 && demangled != nullptr) return demangled.get();
#endif
  return type.name();
}

std::string UnqualifiedTypeName(const std::type_info& type) {
  std::string name = DemangledTypeName(type);
  // Template arguments may contain "::" themselves; cut at the last "::" before
  // any '<'.
  const std::size_t template_start = name.find('<');
  const std::size_t scope = name.rfind("::", template_start);
  if (scope != std::string::npos) name.erase(0, scope + 2);
  return name;
}

}  // namespace procspec::internal
