// procspec::Exit is sys.exit: it throws SystemExit, which unwinds the child's
// stack (running destructors, as Python runs finally blocks) and becomes the
// child's exit code.
#ifndef PROCSPEC_PROCESS_SYSTEM_EXIT_H_
#define PROCSPEC_PROCESS_SYSTEM_EXIT_H_

#include <exception>
#include <optional>
#include <string>
#include <variant>

namespace procspec {

class SystemExit : public std::exception {
 public:
  // sys.exit(None): exit code 0.
  SystemExit() = default;
  // sys.exit(n): exit code n truncated to 8 bits (256 -> 0, -1 -> 255).
  explicit SystemExit(int code) : code_(code) {}
  // sys.exit("message"): the message goes to stderr and the exit code is 1.
  explicit SystemExit(std::string message) : code_(std::move(message)) {}

  const std::variant<std::monostate, int, std::string>& code() const {
    return code_;
  }
  const char* what() const noexcept override { return "SystemExit"; }

 private:
  std::variant<std::monostate, int, std::string> code_;
};

[[noreturn]] inline void Exit() { throw SystemExit(); }
[[noreturn]] inline void Exit(int code) { throw SystemExit(code); }
[[noreturn]] inline void Exit(std::string message) {
  throw SystemExit(std::move(message));
}

}  // namespace procspec

#endif  // PROCSPEC_PROCESS_SYSTEM_EXIT_H_
