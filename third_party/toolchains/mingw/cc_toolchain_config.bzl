"""The C++ toolchain configuration of Debian's mingw-w64 cross compiler (x86_64, posix threads).

It builds Windows executables (`.exe`, linked statically: a test binary needs no DLL beside it)
on a Linux machine; `--config=windows` (.bazelrc) selects it by toolchain resolution, and Wine
runs what it builds.
"""

load(
    "@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl",
    "artifact_name_pattern",
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

def _mingw_toolchain_config_impl(ctx):
    prefix = ctx.attr.tool_prefix
    tool_paths = [
        tool_path(name = "gcc", path = prefix + "gcc-posix"),
        tool_path(name = "cpp", path = prefix + "cpp-posix"),
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
                    # Bazel checks every header a compile read against the declared inputs. gcc
                    # writes a system header's path with symlinks resolved unless told not to,
                    # and external repositories (GoogleTest, abseil's source) are symlinks to
                    # elsewhere on the disk: their headers would count as undeclared.
                    "-no-canonical-prefixes",
                    "-fno-canonical-system-headers",
                    # Reproducible outputs, as Bazel's own Linux toolchain does.
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
                flag_groups = [flag_group(flags = [
                    "-O2",
                    "-DNDEBUG",
                    "-ffunction-sections",
                    "-fdata-sections",
                ])],
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
                    # One self-contained .exe: the C++ runtime and winpthreads linked in, so
                    # that Wine (or Windows) finds no DLL missing beside a test binary.
                    "-static",
                    "-lstdc++",
                ])],
            ),
            flag_set(
                actions = _LINK_ACTIONS,
                flag_groups = [flag_group(flags = ["-Wl,--gc-sections"])],
                with_features = [with_feature_set(features = ["opt"])],
            ),
        ],
    )

    features = [
        default_compile_flags,
        default_link_flags,
        feature(name = "dbg"),
        feature(name = "opt"),
        feature(name = "fastbuild"),
        # Position-independent code means nothing for a PE executable.
        feature(name = "supports_pic", enabled = False),
        feature(name = "supports_dynamic_linker", enabled = False),
    ]

    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        toolchain_identifier = "mingw-w64-x86_64-posix",
        host_system_name = "x86_64-unknown-linux-gnu",
        target_system_name = "x86_64-w64-mingw32",
        target_cpu = "x64_windows",
        target_libc = "msvcrt",
        # abseil's and others' BUILD files may select on this name (Bazel's own MinGW
        # toolchain on Windows uses it too).
        compiler = "mingw-gcc",
        abi_version = "gcc",
        abi_libc_version = "msvcrt",
        tool_paths = tool_paths,
        features = features,
        artifact_name_patterns = [
            artifact_name_pattern(category_name = "executable", prefix = "", extension = ".exe"),
        ],
        cxx_builtin_include_directories = ctx.attr.builtin_include_directories,
    )

mingw_toolchain_config = rule(
    implementation = _mingw_toolchain_config_impl,
    attrs = {
        "builtin_include_directories": attr.string_list(mandatory = True),
        "tool_prefix": attr.string(mandatory = True),
    },
    provides = [CcToolchainConfigInfo],
)
