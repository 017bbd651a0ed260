// The archive a spawned child decodes its bootstrap with (spawn_internal::
// Load): cereal's binary format, read from a byte span that bounds every
// length it reads.
//
// cereal's own BinaryInputArchive trusts a container's length: a std::string
// or std::vector is resized to it before its bytes are read, so a corrupted or
// forged length (fuzz/regressions/spawn_bootstrap) makes the child allocate up
// to 2^64 bytes (std::bad_alloc, or a sanitizer's out-of-memory abort) before
// it notices the bytes are missing. Here a length is checked first: a
// container cannot have more elements than there are bytes left, since every
// element takes at least one byte (an empty class in a container, e.g.
// std::vector<std::tuple<>>, is therefore not supported). A bool must be 0 or
// 1. The format is cereal::BinaryOutputArchive's, which the parent writes.
#ifndef PROCSPEC_PROCESS_SPAWN_ARCHIVE_H_
#define PROCSPEC_PROCESS_SPAWN_ARCHIVE_H_

#include <cereal/archives/binary.hpp>
#include <cereal/cereal.hpp>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

namespace procspec::spawn_internal {

class BoundedBinaryInputArchive
    : public cereal::InputArchive<BoundedBinaryInputArchive,
                                  cereal::AllowEmptyClassElision> {
 public:
  explicit BoundedBinaryInputArchive(std::string_view data)
      : cereal::InputArchive<BoundedBinaryInputArchive,
                             cereal::AllowEmptyClassElision>(this),
        data_(data) {}

  // Reads `size` bytes; cereal::Exception past the end.
  void loadBinary(void* out, std::size_t size) {
    if (size > data_.size()) {
      throw cereal::Exception("Failed to read " + std::to_string(size) +
                              " bytes: " + std::to_string(data_.size()) +
                              " left");
    }
    if (size > 0) std::memcpy(out, data_.data(), size);
    data_.remove_prefix(size);
  }

  std::size_t remaining() const { return data_.size(); }

 private:
  std::string_view data_;
};

template <class T>
inline std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>
CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& archive, T& value) {
  archive.loadBinary(std::addressof(value), sizeof(value));
}

// A bool is one byte, 0 or 1: any other byte is malformed (copied into a bool
// it would be undefined behaviour, fuzz/regressions/*/crash-2f...).
inline void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& archive,
                                      bool& value) {
  static_assert(sizeof(bool) == 1);
  unsigned char byte = 0;
  archive.loadBinary(&byte, 1);
  if (byte > 1) {
    throw cereal::Exception("a bool byte of " + std::to_string(byte));
  }
  value = byte == 1;
}

template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedBinaryInputArchive& archive,
                                           cereal::NameValuePair<T>& pair) {
  archive(pair.value);
}

// A container's length: at most the bytes left.
template <class T>
inline void CEREAL_SERIALIZE_FUNCTION_NAME(BoundedBinaryInputArchive& archive,
                                           cereal::SizeTag<T>& tag) {
  archive(tag.size);
  if (static_cast<std::size_t>(tag.size) > archive.remaining()) {
    throw cereal::Exception("a length of " + std::to_string(tag.size) +
                            " with " + std::to_string(archive.remaining()) +
                            " bytes left");
  }
}

template <class T>
inline void CEREAL_LOAD_FUNCTION_NAME(BoundedBinaryInputArchive& archive,
                                      cereal::BinaryData<T>& data) {
  archive.loadBinary(data.data, static_cast<std::size_t>(data.size));
}

}  // namespace procspec::spawn_internal

CEREAL_REGISTER_ARCHIVE(procspec::spawn_internal::BoundedBinaryInputArchive)

// For save_minimal/load_minimal (enums): what the parent wrote with. Only
// this direction: BinaryOutputArchive's input archive stays cereal's.
namespace cereal::traits::detail {
template <>
struct get_output_from_input<
    procspec::spawn_internal::BoundedBinaryInputArchive> {
  using type = cereal::BinaryOutputArchive;
};
}  // namespace cereal::traits::detail

#endif  // PROCSPEC_PROCESS_SPAWN_ARCHIVE_H_
