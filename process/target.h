// Compile-time rules for a Process's target and args, as traits the conformance
// suite asserts.
//
// CPython checks nothing until the child calls target(*args, **kwargs) and
// fails with a TypeError. C++ can refuse the program instead: args must be a
// std::tuple (so the tutorial's "a one-element tuple needs its comma" becomes
// std::tuple{"p1"}, and a bare "p1" does not compile), and the target must be
// callable with those args, optionally followed by the keyword arguments as
// `const procspec::Kwargs&`.
#ifndef PROCSPEC_PROCESS_TARGET_H_
#define PROCSPEC_PROCESS_TARGET_H_

#include <stdexcept>
#include <tuple>
#include <type_traits>

#include "process/value.h"

namespace procspec {

// Python's TypeError, raised in the child for a call the target cannot take at
// run time (keyword arguments given to a target without a Kwargs parameter).
class TypeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

template <typename T>
inline constexpr bool kIsTuple = false;
template <typename... Ts>
inline constexpr bool kIsTuple<std::tuple<Ts...>> = true;

namespace target_internal {

template <typename Target, typename Args>
struct CallableWithArgs : std::false_type {};
template <typename Target, typename... Args>
struct CallableWithArgs<Target, std::tuple<Args...>>
    : std::is_invocable<std::decay_t<Target>&, Args&...> {};

template <typename Target, typename Args>
struct CallableWithArgsAndKwargs : std::false_type {};
template <typename Target, typename... Args>
struct CallableWithArgsAndKwargs<Target, std::tuple<Args...>>
    : std::is_invocable<std::decay_t<Target>&, Args&..., const Kwargs&> {};

}  // namespace target_internal

// target(args...) is well-formed.
template <typename Target, typename Args>
inline constexpr bool kCallableWithArgs =
    target_internal::CallableWithArgs<Target, std::decay_t<Args>>::value;

// target(args..., kwargs) is well-formed: the target receives keyword
// arguments.
template <typename Target, typename Args>
inline constexpr bool kReceivesKwargs =
    target_internal::CallableWithArgsAndKwargs<Target,
                                               std::decay_t<Args>>::value;

// What Process(target, args, ...) requires.
template <typename Target, typename Args>
concept ValidTargetAndArgs = kIsTuple<std::decay_t<Args>> &&
    (kCallableWithArgs<Target, Args> || kReceivesKwargs<Target, Args>);

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_TARGET_H_
