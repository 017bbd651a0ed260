"""The C++ toolchain configuration of Debian's aarch64-linux-gnu cross compiler.

It builds static aarch64 Linux executables on an x86_64 Linux machine; `--config=aarch64`
(.bazelrc) selects it by toolchain resolution, and qemu-aarch64-static runs what it builds.
abseil comes from Debian's libabsl-dev:arm64 (/usr/lib/aarch64-linux-gnu, which the compiler
searches), headers from /usr/include as in the native build.
"""

load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "feature",
    "flag_group",
    "flag_set",
    "tool_path",
    "with_feature_set",
)
load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")

_COMPILE_ACTIONS = [
    ACTION_NAMES.assemble,
    ACTION_NAMES.preprocess_assemble,
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.cpp_module_codegen,
    ACTION_NAMES.linkstamp_compile,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
    ACTION_NAMES.cpp_link_dynamic_library,
    ACTION_NAMES.cpp_link_nodeps_dynamic_library,
]

def _aarch64_toolchain_config_impl(ctx):
    prefix = ctx.attr.tool_prefix
    tool_paths = [
        tool_path(name = "gcc", path = prefix + "gcc"),
        tool_path(name = "cpp", path = prefix + "cpp"),
        tool_path(name = "ar", path = prefix + "ar"),
        tool_path(name = "ld", path = prefix + "ld"),
        tool_path(name = "nm", path = prefix + "nm"),
        tool_path(name = "objcopy", path = prefix + "objcopy"),
        tool_path(name = "objdump", path = prefix + "objdump"),
        tool_path(name = "strip", path = prefix + "strip"),
        tool_path(name = "gcov", path = "/bin/false"),
    ]

    default_compile_flags = feature(
        name = "default_compile_flags",
        enabled = True,
        flag_sets = [
            flag_set(
                actions = _COMPILE_ACTIONS,
                flag_groups = [flag_group(flags = [
                    # Headers are checked against the declared inputs by their paths as
                    # written, not with symlinks resolved (external repositories are symlinks).
                    "-no-canonical-prefixes",
                    "-fno-canonical-system-headers",
                    "-Wno-builtin-macro-redefined",
                    "-D__DATE__=\"redacted\"",
                    "-D__TIMESTAMP__=\"redacted\"",
                    "-D__TIME__=\"redacted\"",
                ])],
            ),
            flag_set(
                actions = _COMPILE_ACTIONS,
                flag_groups = [flag_group(flags = ["-g"])],
                with_features = [with_feature_set(features = ["dbg"])],
            ),
            flag_set(
                actions = _COMPILE_ACTIONS,
                flag_groups = [flag_group(flags = ["-O2", "-DNDEBUG"])],
                with_features = [with_feature_set(features = ["opt"])],
            ),
        ],
    )

    default_link_flags = feature(
        name = "default_link_flags",
        enabled = True,
        flag_sets = [
            flag_set(
                actions = _LINK_ACTIONS,
                flag_groups = [flag_group(flags = [
                    "-no-canonical-prefixes",
                    # Static: qemu-aarch64-static runs it without an aarch64 loader or libraries.
                    "-static",
                    "-pthread",
                    "-lstdc++",
                    "-lm",
                ])],
            ),
        ],
    )

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "aarch64-linux-gnu",
        host_system_name = "x86_64-unknown-linux-gnu",
        target_system_name = "aarch64-linux-gnu",
        target_cpu = "aarch64",
        target_libc = "glibc",
        compiler = "gcc",
        abi_version = "gcc",
        abi_libc_version = "glibc",
        tool_paths = tool_paths,
        features = [
            default_compile_flags,
            default_link_flags,
            feature(name = "dbg"),
            feature(name = "opt"),
            feature(name = "fastbuild"),
            feature(name = "supports_pic", enabled = True),
        ],
        cxx_builtin_include_directories = ctx.attr.builtin_include_directories,
    )

aarch64_toolchain_config = rule(
    implementation = _aarch64_toolchain_config_impl,
    attrs = {
        "builtin_include_directories": attr.string_list(mandatory = True),
        "tool_prefix": attr.string(mandatory = True),
    },
    provides = [CcToolchainConfigInfo],
)
