"""Adapts Debian's rules_cc (bazel-rules-cc) to Bazel 4.2.3.

rules_cc 0.0.4 loads `use_cpp_toolchain` from @bazel_tools, which Bazel 4.2.3 lacks. This rule
copies the installed tree, drops that symbol from the load and writes the one-element toolchain
list it would build in place of each call.
"""

_PATCHED_FILES = [
    "cc/private/rules_impl/cc_flags_supplier.bzl",
    "cc/private/rules_impl/compiler_flag.bzl",
]

_OLD_LOAD = 'load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain", "use_cpp_toolchain")'
_NEW_LOAD = 'load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")'
_OLD_CALL = "use_cpp_toolchain()"
_NEW_CALL = '["@bazel_tools//tools/cpp:toolchain_type"]'

def _local_rules_cc_impl(ctx):
    src = ctx.path(ctx.attr.path)
    if not src.exists:
        fail("rules_cc not found at %s: install Debian's bazel-rules-cc" % ctx.attr.path)
    result = ctx.execute(["cp", "-RL", str(src) + "/.", "."])
    if result.return_code != 0:
        fail("copying rules_cc failed: " + result.stderr)
    for name in _PATCHED_FILES:
        content = ctx.read(name)
        if _OLD_LOAD not in content:
            fail("rules_cc at %s changed: %s no longer loads use_cpp_toolchain" % (ctx.attr.path, name))
        patched = content.replace(_OLD_LOAD, _NEW_LOAD).replace(_OLD_CALL, _NEW_CALL)
        ctx.file(name, patched, executable = False)

local_rules_cc = repository_rule(
    implementation = _local_rules_cc_impl,
    attrs = {"path": attr.string(mandatory = True)},
    local = True,
)
