#include "fuzz/registered.h"

#include "process/spawn.h"

namespace procspec::fuzz {

void Scalars(std::string, std::int64_t, double, bool) {}
void Containers(std::vector<std::string>, std::map<std::string, std::int32_t>,
                std::optional<std::tuple<int, std::string>>) {}
void WithKwargs(std::string, const Kwargs&) {}
void WithHandle(InheritedHandle) {}
void NoArgs() {}

}  // namespace procspec::fuzz

PROCSPEC_TARGET(procspec::fuzz::Scalars);
PROCSPEC_TARGET(procspec::fuzz::Containers);
PROCSPEC_TARGET(procspec::fuzz::WithKwargs);
PROCSPEC_TARGET(procspec::fuzz::WithHandle);
PROCSPEC_TARGET(procspec::fuzz::NoArgs);
PROCSPEC_PROCESS_CLASS(procspec::fuzz::FuzzProcess);
