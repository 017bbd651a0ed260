// The spawn targets and the Process class the fuzzers' bootstraps name (the
// seed corpus is made of real bootstraps of them, see make_seed_corpus.cc).
// They do nothing: the fuzzers exercise the decoding of their arguments and
// state, not their work.
#ifndef PROCSPEC_FUZZ_REGISTERED_H_
#define PROCSPEC_FUZZ_REGISTERED_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "process/inherited_handle.h"
#include "process/process.h"
#include "process/value.h"

namespace procspec::fuzz {

void Scalars(std::string text, std::int64_t number, double real, bool flag);
void Containers(std::vector<std::string> words,
                std::map<std::string, std::int32_t> counts,
                std::optional<std::tuple<int, std::string>> pair);
void WithKwargs(std::string text, const Kwargs& kwargs);
void WithHandle(InheritedHandle handle);
void NoArgs();

class FuzzProcess : public Process {
 public:
  FuzzProcess() = default;
  FuzzProcess(std::vector<std::int64_t> numbers, std::string label,
              Options options = {})
      : Process(std::move(options)),
        numbers_(std::move(numbers)),
        label_(std::move(label)) {}
  void run() override {}

  template <class Archive>
  void serialize(Archive& archive) {
    archive(numbers_, label_);
  }

 private:
  std::vector<std::int64_t> numbers_;
  std::string label_;
};

}  // namespace procspec::fuzz

#endif  // PROCSPEC_FUZZ_REGISTERED_H_
