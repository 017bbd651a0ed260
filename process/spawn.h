// What the spawn start method can send to a child.
//
// A spawned child is a fresh run of the same program, so it cannot receive a
// function pointer or a lambda: it finds its target by a registered name, and
// receives the arguments serialized (cereal, binary archive), as CPython
// pickles them. Targets and classes are registered at namespace scope, and
// the child finds them once it reaches procspec::Init (init.h), the main
// guard at the top of main():
//
// clang-format off
//   ```c++
//   #include <string>
//   #include <tuple>
//
//   #include "process/init.h"
//   #include "process/process.h"
//   #include "process/spawn.h"
//
//   void task(std::string name) { (void)name; }
//   PROCSPEC_TARGET(task);  // Process(task, std::tuple{"p1"}) can spawn
//
//   class Pro : public procspec::Process {
//    public:
//     void run() override { ++count_; }
//     template <class Archive>
//     void serialize(Archive& ar) {
//       ar(count_);
//     }
//
//    private:
//     int count_ = 0;
//   };
//   PROCSPEC_PROCESS_CLASS(Pro);  // default-constructible, serializable
//
//   int main(int argc, char** argv) {
//     procspec::Init(argc, argv);  // a spawned child runs here, never returns
//     procspec::Process p(task, std::tuple{"p1"});
//     Pro q;
//     if (!p.start().ok() || !q.start().ok()) return 1;
//     if (!p.join().ok() || !q.join().ok()) return 1;
//     return 0;
//   }
//   ```
// clang-format on
//
// The args are converted to the target's decayed parameter types when the
// Process is constructed (std::tuple{"p1"} for a std::string parameter sends a
// std::string). A target that is not a registered function (a lambda, a
// function object), or an argument type cereal cannot serialize, makes start()
// fail in the parent with a PicklingError under spawn; the fork start method
// accepts them. `kSpawnable<Target, Args>` says it at compile time.
#ifndef PROCSPEC_PROCESS_SPAWN_H_
#define PROCSPEC_PROCESS_SPAWN_H_

#include <cereal/archives/binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/chrono.hpp>
#include <cereal/types/deque.hpp>
#include <cereal/types/list.hpp>
#include <cereal/types/map.hpp>
#include <cereal/types/memory.hpp>
#include <cereal/types/optional.hpp>
#include <cereal/types/set.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/tuple.hpp>
#include <cereal/types/unordered_map.hpp>
#include <cereal/types/unordered_set.hpp>
#include <cereal/types/utility.hpp>
#include <cereal/types/variant.hpp>
#include <cereal/types/vector.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

#include "process/spawn_archive.h"
#include "process/value.h"

namespace procspec {

class Process;

// multiprocessing.set_executable: the program the spawn start method runs for
// a child; "" (the default) is this program. A program other than this one
// must call procspec::Init on the same registrations, as CPython's executable
// must be a Python that can import the main module. If it cannot be executed,
// start() fails with CPython's OSError text ("[Errno 2] No such file or
// directory: '/path'", FileNotFoundError) and starts nothing; CPython 3.11
// instead starts a child that exits with 255 (see the registry's
// robustness.start.exec_failure). The fork server is always this program.
void set_executable(std::string path);
// What set_executable set ("" for this program).
std::string get_executable();

namespace spawn_internal {

using ErasedFunction = void (*)();
using Invoker = void (*)(const std::string& args, const Kwargs& kwargs);

// A target is keyed by its qualified name as the compiler spells it
// (`TargetKey`), which the child, the same program, looks up; a class by the
// name written in the macro. Two different functions (or classes) registered
// under one key would make the child run the wrong one: the key is then
// ambiguous, and neither can be sent (`TargetConflict`). `where` is the
// registering macro's file:line.
void RegisterTarget(ErasedFunction function, const char* name,
                    const char* where, Invoker invoker);
// The key of the function a `signature` names: the compiler's spelling of its
// qualified name ("ns::task"), read from the signature of `SignatureNaming<F>`
// ("... [with auto F = ns::task]"), and for a function with internal linkage
// ("{anonymous}::task", the same in every file) also the registering file
// ("{anonymous}::task@dir/file.cc"). `written` (the macro's argument) where
// the signature does not name it.
std::string TargetKey(std::string_view signature, const char* written,
                      std::string_view where);
// The registered name of `function`, or nullptr.
const std::string* FindTargetName(ErasedFunction function);
// The invoker registered as `name`, or nullptr (also for an ambiguous name).
Invoker FindInvoker(const std::string& name);
// "" if `name` names one target (or class), else why it cannot be sent:
// every place that registered it.
std::string TargetConflict(const std::string& name);
std::string ClassConflict(const std::string& name);

struct ClassEntry {
  std::string name;
  std::unique_ptr<Process> (*make)();
  std::string (*save)(Process&);
  void (*load)(Process&, const std::string&);
};
void RegisterClass(const std::type_info& type, ClassEntry entry,
                   const char* where);
const ClassEntry* FindClass(const std::type_info& type);
const ClassEntry* FindClass(const std::string& name);

// The arguments Init recorded (empty before Init): a spawned child's argv.
std::vector<std::string> ProgramArguments();

[[noreturn]] void ThrowUnexpectedKeyword(const Kwargs& kwargs);
// `type_name` is the target's demangled type, `method` the start method.
std::string DescribeUnsendableTarget(const std::string& type_name,
                                     const std::string& method);
std::string DemangledName(const std::type_info& type);
std::string DescribeUnsendableArgument(std::size_t index,
                                       const std::type_info& type);

template <typename T>
std::string Save(const T& value) {
  std::ostringstream out;
  {
    cereal::BinaryOutputArchive archive(out);
    archive(value);
  }
  return std::move(out).str();
}

// Bytes from another process: every length is checked against the bytes left
// (spawn_archive.h). Throws cereal::Exception for malformed data.
template <typename T>
void Load(const std::string& data, T& value) {
  BoundedBinaryInputArchive archive(data);
  archive(value);
}

template <typename T>
inline constexpr bool kSerializable = cereal::traits::is_output_serializable<
    T, cereal::BinaryOutputArchive>::value&&
    cereal::traits::is_input_serializable<T, BoundedBinaryInputArchive>::value;

// A plain function's parameters: `Sent` is what is serialized (the decayed
// parameters without a trailing Kwargs), `Params` the declared ones.
template <typename F>
struct FunctionTraits {
  static constexpr bool kIsFunction = false;
};

template <typename... P>
struct ParamList {
  static constexpr std::size_t kCount = sizeof...(P);
  static constexpr bool kTakesKwargs =
      kCount > 0 &&
      std::is_same_v<std::decay_t<std::tuple_element_t<
                         kCount == 0 ? 0 : kCount - 1, std::tuple<P..., void>>>,
                     Kwargs>;
  static constexpr std::size_t kSentCount = kTakesKwargs ? kCount - 1 : kCount;
  template <std::size_t... I>
  static auto SentOf(std::index_sequence<I...>)
      -> std::tuple<std::decay_t<std::tuple_element_t<I, std::tuple<P...>>>...>;
  using Params = std::tuple<P...>;
  using Sent = decltype(SentOf(std::make_index_sequence<kSentCount>()));
};

template <typename R, typename... P>
struct FunctionTraits<R (*)(P...)> : ParamList<P...> {
  static constexpr bool kIsFunction = true;
};
template <typename R, typename... P>
struct FunctionTraits<R (*)(P...) noexcept> : ParamList<P...> {
  static constexpr bool kIsFunction = true;
};

// Index of the first element of the tuple `Sent` that cereal cannot
// serialize, or its size.
template <typename Sent, std::size_t I = 0>
constexpr std::size_t FirstUnserializable() {
  if constexpr (I == std::tuple_size_v<Sent>) {
    return I;
  } else if constexpr (!kSerializable<std::tuple_element_t<I, Sent>>) {
    return I;
  } else {
    return FirstUnserializable<Sent, I + 1>();
  }
}

// An argument as the parameter takes it: an lvalue for an lvalue reference,
// else moved (the child owns its deserialized copy).
template <typename P, typename T>
decltype(auto) Pass(T& value) {
  if constexpr (std::is_lvalue_reference_v<P>) {
    return (value);
  } else {
    return std::move(value);
  }
}

template <auto F, std::size_t... I>
void InvokeWith(typename FunctionTraits<decltype(F)>::Sent& args,
                const Kwargs& kwargs, std::index_sequence<I...>) {
  using Traits = FunctionTraits<decltype(F)>;
  using Params = typename Traits::Params;
  if constexpr (Traits::kTakesKwargs) {
    F(Pass<std::tuple_element_t<I, Params>>(std::get<I>(args))..., kwargs);
  } else {
    if (!kwargs.empty()) ThrowUnexpectedKeyword(kwargs);
    F(Pass<std::tuple_element_t<I, Params>>(std::get<I>(args))...);
  }
}

// The child's side of a registered target: deserializes the arguments and
// calls it.
template <auto F>
void Invoke(const std::string& payload, const Kwargs& kwargs) {
  using Traits = FunctionTraits<decltype(F)>;
  typename Traits::Sent args;
  Load(payload, args);
  InvokeWith<F>(args, kwargs, std::make_index_sequence<Traits::kSentCount>());
}

// A signature that names F (GCC, Clang and MinGW spell it out; "" elsewhere).
template <auto F>
std::string_view SignatureNaming() {
#if defined(__GNUC__) || defined(__clang__)
  return __PRETTY_FUNCTION__;
#else
  return "";
#endif
}

template <auto F>
bool RegisterTargetFunction(const char* name, const char* where) {
  using Traits = FunctionTraits<decltype(F)>;
  static_assert(Traits::kIsFunction,
                "PROCSPEC_TARGET: the target must be a function");
  static_assert(
      FirstUnserializable<typename Traits::Sent>() ==
          std::tuple_size_v<typename Traits::Sent>,
      "PROCSPEC_TARGET: every parameter (after decay) must be serializable "
      "with cereal");
  const std::string key = TargetKey(SignatureNaming<F>(), name, where);
  RegisterTarget(reinterpret_cast<ErasedFunction>(F), key.c_str(), where,
                 &Invoke<F>);
  return true;
}

template <typename C>
bool RegisterProcessClass(const char* name, const char* where) {
  static_assert(std::is_base_of_v<Process, C>,
                "PROCSPEC_PROCESS_CLASS: the class must derive from "
                "procspec::Process");
  static_assert(std::is_default_constructible_v<C>,
                "PROCSPEC_PROCESS_CLASS: the class must be default "
                "constructible (the spawned child makes one, then restores "
                "its state)");
  static_assert(kSerializable<C>,
                "PROCSPEC_PROCESS_CLASS: the class needs a cereal member "
                "`template <class Archive> void serialize(Archive&)`");
  RegisterClass(
      typeid(C),
      ClassEntry{
          name,
          []() -> std::unique_ptr<Process> { return std::make_unique<C>(); },
          [](Process& process) { return Save(static_cast<C&>(process)); },
          [](Process& process, const std::string& data) {
            Load(data, static_cast<C&>(process));
          },
      },
      where);
  return true;
}

// How a Process's target and args cross to a spawned child.
struct SpawnTarget {
  ErasedFunction function = nullptr;
  // The type of a target that cannot be sent (a lambda, a function object),
  // or "": the message names the start method, known at start().
  std::string unsendable_type;
  // Why the args cannot be sent, or "".
  std::string error;
  std::function<std::string()> save_args;
  Kwargs kwargs;
};

template <typename Target, typename Args>
std::shared_ptr<const SpawnTarget> MakeSpawnTarget(const Target& target,
                                                   const Args& args,
                                                   const Kwargs& kwargs) {
  using Fn = std::decay_t<Target>;
  auto spawn = std::make_shared<SpawnTarget>();
  spawn->kwargs = kwargs;
  if constexpr (!FunctionTraits<Fn>::kIsFunction) {
    spawn->unsendable_type = DemangledName(typeid(Fn));
  } else {
    using Sent = typename FunctionTraits<Fn>::Sent;
    constexpr std::size_t kBad = FirstUnserializable<Sent>();
    if constexpr (kBad < std::tuple_size_v<Sent>) {
      spawn->error = DescribeUnsendableArgument(
          kBad, typeid(std::tuple_element_t<kBad, Sent>));
    } else if constexpr (!std::is_constructible_v<Sent, const Args&> &&
                         std::tuple_size_v<Sent> != 0) {
      spawn->error =
          "cannot convert the args to the target's parameter types to send "
          "them";
    } else {
      spawn->function = reinterpret_cast<ErasedFunction>(target);
      auto sent = std::make_shared<const Sent>(Sent(args));
      spawn->save_args = [sent] { return Save(*sent); };
    }
  }
  return spawn;
}

}  // namespace spawn_internal

// Whether Process(target, args) can be started with the spawn start method as
// far as the types say (the target must also be registered).
template <typename Target, typename Args>
inline constexpr bool kSpawnable = [] {
  using Fn = std::decay_t<Target>;
  if constexpr (!spawn_internal::FunctionTraits<Fn>::kIsFunction) {
    return false;
  } else {
    using Sent = typename spawn_internal::FunctionTraits<Fn>::Sent;
    return spawn_internal::FirstUnserializable<Sent>() ==
           std::tuple_size_v<Sent>;
  }
}();

}  // namespace procspec

#define PROCSPEC_SPAWN_CONCAT_(a, b) a##b
#define PROCSPEC_SPAWN_CONCAT(a, b) PROCSPEC_SPAWN_CONCAT_(a, b)
#define PROCSPEC_SPAWN_STRING_(x) #x
#define PROCSPEC_SPAWN_STRING(x) PROCSPEC_SPAWN_STRING_(x)
#define PROCSPEC_SPAWN_WHERE __FILE__ ":" PROCSPEC_SPAWN_STRING(__LINE__)

// Registers the free function `function` as a spawn target. At namespace
// scope, after the function's declaration. The child finds it by its qualified
// name (and, for one with internal linkage, the registering file), so two
// functions with one bare name in two namespaces or two files are two targets.
#define PROCSPEC_TARGET(function)                                    \
  [[maybe_unused]] static const bool PROCSPEC_SPAWN_CONCAT(          \
      procspec_target_registered_, __COUNTER__) =                    \
      ::procspec::spawn_internal::RegisterTargetFunction<&function>( \
          #function, PROCSPEC_SPAWN_WHERE)

// Registers the Process subclass `Class` for the spawn start method.
#define PROCSPEC_PROCESS_CLASS(Class)                          \
  [[maybe_unused]] static const bool PROCSPEC_SPAWN_CONCAT(    \
      procspec_class_registered_, __COUNTER__) =               \
      ::procspec::spawn_internal::RegisterProcessClass<Class>( \
          #Class, PROCSPEC_SPAWN_WHERE)

#endif  // PROCSPEC_PROCESS_SPAWN_H_
