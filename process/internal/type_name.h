#ifndef PROCSPEC_PROCESS_INTERNAL_TYPE_NAME_H_
#define PROCSPEC_PROCESS_INTERNAL_TYPE_NAME_H_

#include <string>
#include <typeinfo>

namespace procspec::internal {

// "std::runtime_error" for typeid(std::runtime_error), demangled where the C++
// ABI allows.
std::string DemangledTypeName(const std::type_info& type);

// The unqualified class name: "Pro" for a class `app::Pro` (CPython's
// type(self).__name__).
std::string UnqualifiedTypeName(const std::type_info& type);

}  // namespace procspec::internal

#endif  // PROCSPEC_PROCESS_INTERNAL_TYPE_NAME_H_
