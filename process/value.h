// Values a target receives as keyword arguments (CPython's kwargs dict).
//
// The tutorial's `kwargs={"name":"race","age":23}` is written
//   procspec::Kwargs{{"name", "race"}, {"age", 23}}
#ifndef PROCSPEC_PROCESS_VALUE_H_
#define PROCSPEC_PROCESS_VALUE_H_

#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace procspec {

// A Python-like scalar: None, bool, int, float or str.
class Value {
 public:
  using Variant =
      std::variant<std::nullptr_t, bool, std::int64_t, double, std::string>;

  Value() = default;
  Value(std::nullptr_t) {}  // NOLINT(google-explicit-constructor): None
  Value(bool value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  template <std::integral Integer>
  requires(!std::same_as<Integer, bool>)
      Value(Integer value)  // NOLINT(google-explicit-constructor)
      : value_(static_cast<std::int64_t>(value)) {}
  template <std::floating_point Float>
  Value(Float value)  // NOLINT(google-explicit-constructor)
      : value_(static_cast<double>(value)) {}
  Value(const char* value) : value_(std::string(value)) {}       // NOLINT
  Value(std::string_view value) : value_(std::string(value)) {}  // NOLINT
  Value(std::string value) : value_(std::move(value)) {}         // NOLINT

  // is<std::int64_t>(), is<std::string>(), ...
  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(value_);
  }
  // The value as T; throws std::bad_variant_access if it holds another type.
  template <typename T>
  const T& as() const {
    return std::get<T>(value_);
  }
  const Variant& variant() const { return value_; }

  // Python's repr(): None, True, 23, 1.5, 'race'.
  std::string repr() const;

  friend bool operator==(const Value&, const Value&) = default;

  // cereal serialization (the spawn start method sends kwargs): the
  // alternative's index, then the value.
  template <class Archive>
  void save(Archive& archive) const {
    archive(static_cast<std::uint8_t>(value_.index()));
    std::visit(
        [&archive](const auto& value) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(value)>,
                                        std::nullptr_t>) {
            archive(value);
          }
        },
        value_);
  }
  template <class Archive>
  void load(Archive& archive) {
    std::uint8_t index = 0;
    archive(index);
    switch (index) {
      case 0:
        value_ = nullptr;
        return;
      case 1:
        LoadAs<bool>(archive);
        return;
      case 2:
        LoadAs<std::int64_t>(archive);
        return;
      case 3:
        LoadAs<double>(archive);
        return;
      case 4:
        LoadAs<std::string>(archive);
        return;
      default:
        throw std::runtime_error("procspec::Value: bad type tag");
    }
  }

 private:
  template <typename T, class Archive>
  void LoadAs(Archive& archive) {
    T value{};
    archive(value);
    value_ = std::move(value);
  }

  Variant value_ = nullptr;
};

// Keyword arguments, in the order Python 3.7+ keeps a dict literal's keys is
// not observable here: a target looks them up by name.
using Kwargs = std::map<std::string, Value, std::less<>>;

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_VALUE_H_
