"""procspec's external repositories, for procspec's own WORKSPACE and for a project that uses it.

Everything resolves from the local disk (Debian packages that ./bazelw installs); nothing is
downloaded. A project that uses procspec as an external repository calls the same macro:

    local_repository(name = "procspec", path = "...")  # or any other way to fetch it
    load("@procspec//third_party/bazel:dependencies.bzl", "procspec_dependencies")
    procspec_dependencies()

A repository the caller has already declared under the same name is left as it is.
"""

load("//third_party/bazel:abseil_source.bzl", "abseil_source")
load("//third_party/bazel:local_rules_cc.bzl", "local_rules_cc")
load("//third_party/bazel:system_absl.bzl", "absl_targets", "system_absl")

def _coverage_tools_stand_in_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("BUILD", ctx.read(ctx.attr.build_file))

# Every cc_test depends on Bazel's coverage tools, which Bazel would download: a stand-in with
# the two targets it names lets builds work offline (`bazel coverage` does not).
_coverage_tools_stand_in = repository_rule(
    implementation = _coverage_tools_stand_in_impl,
    attrs = {"build_file": attr.label(allow_single_file = True)},
    local = True,
)

def _declare(rule, name, **kwargs):
    if name not in native.existing_rules():
        rule(name = name, **kwargs)

def procspec_dependencies():
    """Declares the repositories procspec's BUILD files name."""

    # Debian's rules_cc 0.0.4 targets a newer Bazel; the rule copies it and patches two loads.
    _declare(local_rules_cc, "rules_cc", path = "/usr/share/bazel/rules/cc")

    # Toolchain resolution asks for rules_java even in a C++-only build.
    _declare(native.local_repository, "rules_java", path = "/usr/share/bazel/rules/java")

    _declare(
        _coverage_tools_stand_in,
        "remote_coverage_tools",
        build_file = Label("//third_party:remote_coverage_tools.BUILD"),
    )

    _declare(
        native.new_local_repository,
        "com_google_googletest",
        build_file = str(Label("//third_party:googletest.BUILD")),
        path = "/usr/src/googletest",
    )

    # abseil from libabsl-dev; link lines come from its pkg-config files. For Windows, from the
    # source tree of the same release (abseil_source.bzl says where it is found).
    _declare(system_absl, "com_google_absl", source_repository = "@abseil_source")
    _declare(
        abseil_source,
        "abseil_source",
        stub_targets = absl_targets(),
    )

    # Bazel's skylib (Debian's bazel-skylib), which abseil's BUILD files load.
    _declare(native.local_repository, "bazel_skylib", path = "/usr/share/bazel/tools/skylib")

    _declare(
        native.new_local_repository,
        "nlohmann_json",
        build_file = str(Label("//third_party:nlohmann_json.BUILD")),
        path = "/usr/include/nlohmann",
    )

    _declare(
        native.new_local_repository,
        "google_benchmark",
        build_file = str(Label("//third_party:google_benchmark.BUILD")),
        path = "/usr/include/benchmark",
    )

    _declare(
        native.new_local_repository,
        "cereal",
        build_file = str(Label("//third_party:cereal.BUILD")),
        path = "/usr/include/cereal",
    )

    # The mingw-w64 cross toolchain of `--config=windows`; only a build for a Windows target
    # platform resolves it.
    native.register_toolchains(str(Label("//third_party/toolchains/mingw:toolchain")))
