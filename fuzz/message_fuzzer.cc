// libFuzzer entry point (tools/fuzz.sh builds it with clang-14
// -fsanitize=fuzzer,address,undefined): DecodeMessageStream on every input.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/decoders.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  (void)procspec::fuzz::DecodeMessageStream(
      std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
