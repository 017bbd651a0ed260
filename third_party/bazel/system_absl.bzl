"""Exposes Debian's libabsl-dev as Bazel targets, with link lines from pkg-config.

Each target is named like its pkg-config module without the `absl_` prefix, under the paths the
upstream repository uses (e.g. `@com_google_absl//absl/status:statusor`), so code reads as it
would against upstream abseil.

Debian's abseil is built for Linux. For a Windows target platform each target instead stands for
the same target of abseil's source tree (`source_repository`, see abseil_source.bzl), compiled
with the build's own toolchain: the labels code uses stay the same for every OS.
"""

# Bazel label (package, name) -> pkg-config module.
_COMPONENTS = {
    ("absl/base", "core_headers"): "absl_core_headers",
    ("absl/base", "base"): "absl_base",
    ("absl/cleanup", "cleanup"): "absl_cleanup",
    ("absl/container", "flat_hash_map"): "absl_flat_hash_map",
    ("absl/container", "flat_hash_set"): "absl_flat_hash_set",
    ("absl/container", "btree"): "absl_btree",
    ("absl/container", "inlined_vector"): "absl_inlined_vector",
    ("absl/flags", "flag"): "absl_flags",
    ("absl/flags", "parse"): "absl_flags_parse",
    ("absl/functional", "any_invocable"): "absl_any_invocable",
    ("absl/functional", "function_ref"): "absl_function_ref",
    ("absl/random", "random"): "absl_random_random",
    ("absl/status", "status"): "absl_status",
    ("absl/status", "statusor"): "absl_statusor",
    ("absl/strings", "strings"): "absl_strings",
    ("absl/strings", "str_format"): "absl_str_format",
    ("absl/synchronization", "synchronization"): "absl_synchronization",
    ("absl/time", "time"): "absl_time",
    ("absl/types", "optional"): "absl_optional",
    ("absl/types", "span"): "absl_span",
    ("absl/types", "variant"): "absl_variant",
}

def _pkg_config_libs(ctx, module):
    """The link line of `module`, its abseil libraries as static archives.

    `pkg-config --static` orders the module's archives after everything that needs them;
    `-l:libabsl_X.a` makes the linker take the archive where Debian ships both. Linking
    abseil's 46 shared libraries into every program made each fork copy some 200 mappings and
    each spawned child load them all before main: a program that uses procspec now loads only
    the C and C++ runtimes.
    """
    result = ctx.execute(["pkg-config", "--static", "--libs", module])
    if result.return_code != 0:
        fail("pkg-config --libs %s failed (is libabsl-dev installed?): %s" % (module, result.stderr))
    flags = []
    for flag in result.stdout.strip().split(" "):
        if flag.startswith("-labsl_"):
            flag = "-l:lib%s.a" % flag[len("-l"):]
        flags.append(flag)
    return flags

def absl_targets():
    """The `package:name` of every target the repository provides."""
    return ["%s:%s" % (package, name) for package, name in _COMPONENTS]

# mingw-w64 names these system libraries that abseil uses on Windows (random's seed comes from
# bcrypt, the stack traces of synchronization's deadlock detection from dbghelp); abseil's own
# BUILD files name them only for MSVC.
_WINDOWS_LINKOPTS = ["-lbcrypt", "-ldbghelp"]

_RULE = """cc_library(
    name = {name},
    linkopts = select({{
        "//:windows": {windows_linkopts},
        "//conditions:default": {linkopts},
    }}),
    deps = select({{
        "//:windows": [{source}],
        "//conditions:default": [],
    }}),
)
"""

_ROOT_BUILD = """# The target platforms whose abseil comes from source rather than from libabsl-dev.
config_setting(
    name = "windows",
    constraint_values = ["@platforms//os:windows"],
    visibility = [":__subpackages__"],
)
"""

def _system_absl_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD.bazel", _ROOT_BUILD)
    packages = {}
    for (package, name), module in _COMPONENTS.items():
        linkopts = [flag for flag in _pkg_config_libs(ctx, module) if flag]
        packages.setdefault(package, []).append(_RULE.format(
            name = repr(name),
            linkopts = repr(linkopts),
            windows_linkopts = repr(_WINDOWS_LINKOPTS),
            source = repr("%s//%s:%s" % (ctx.attr.source_repository, package, name)),
        ))
    for package, rules in packages.items():
        header = 'package(default_visibility = ["//visibility:public"])\n\n'
        ctx.file(package + "/BUILD.bazel", header + "\n".join(rules))

system_absl = repository_rule(
    implementation = _system_absl_impl,
    attrs = {
        "source_repository": attr.string(
            doc = "The repository of abseil's source tree, for a Windows target platform.",
            mandatory = True,
        ),
    },
    local = True,
)
