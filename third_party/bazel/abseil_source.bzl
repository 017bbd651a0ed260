"""abseil's source tree as a repository, for the builds that cannot use Debian's libabsl-dev.

Debian ships abseil built for Linux only; a build for Windows (`--config=windows`) compiles
abseil from its source with abseil's own BUILD files. The release is the one Debian ships, LTS
20220623.1 (https://github.com/abseil/abseil-cpp/releases/tag/20220623.1). The tree is named by
the environment variable PROCSPEC_ABSEIL_SOURCE=<dir> (relative: to the main workspace); the
repository itself never assumes where a copy lies.

(`--override_repository=abseil_source=<dir>` would skip this rule and with it the adaptation
of absl/BUILD.bazel below, which an unmodified tree needs under Bazel 4.2.3.)

When none exists the repository still loads, so that a native build never notices, but each of
its targets fails with a message saying where to get the source as soon as a build needs one.
"""

_ENV = "PROCSPEC_ABSEIL_SOURCE"

_MISSING_BZL = '''\
def _missing_source_impl(ctx):
    fail("""{message}""")

missing_source = rule(implementation = _missing_source_impl)
'''

def _source_dir(ctx):
    """The abseil tree to use (None when there is none), and what named it."""
    from_env = ctx.os.environ.get(_ENV, "")
    if not from_env:
        return None, "nothing: %s is not set" % _ENV

    # A relative path is taken from the main workspace's directory, not this repository's.
    workspace_root = str(ctx.path(Label("@//:WORKSPACE")).dirname)
    path = ctx.path(from_env if from_env.startswith("/") else workspace_root + "/" + from_env)
    description = "%s=%s" % (_ENV, from_env)
    if path.get_child("absl").get_child("base").get_child("BUILD.bazel").exists:
        return path, description
    return None, description

def _adapted_root_build(ctx, content):
    """absl/BUILD.bazel, made loadable by this Bazel's @platforms.

    abseil names the constraint values @platforms//cpu:wasm32 and wasm64, which the @platforms
    bundled with Bazel 4.2.3 lacks: loading the package then fails for every target. Where they
    are missing, the two settings become --cpu comparisons that no procspec build matches.
    """
    cpus = ctx.read(ctx.path(Label("@platforms//cpu:BUILD")))
    for cpu in ("wasm32", "wasm64"):
        if '"%s"' % cpu in cpus:
            continue
        old = 'constraint_values = [\n        "@platforms//cpu:%s",\n    ],' % cpu
        if old not in content:
            fail("abseil's absl/BUILD.bazel changed: no setting for @platforms//cpu:" + cpu)
        content = content.replace(old, 'values = {"cpu": "%s"},' % cpu)
    return content

def _link_source(ctx, source):
    """The tree, linked entry by entry, with absl/BUILD.bazel adapted to this Bazel."""
    for entry in source.readdir():
        if entry.basename not in ("WORKSPACE", "WORKSPACE.bazel", "absl"):
            ctx.symlink(entry, entry.basename)
    absl = source.get_child("absl")
    for entry in absl.readdir():
        if entry.basename != "BUILD.bazel":
            ctx.symlink(entry, "absl/" + entry.basename)
    root_build = ctx.read(absl.get_child("BUILD.bazel"))
    ctx.file("absl/BUILD.bazel", _adapted_root_build(ctx, root_build))

def _write_stubs(ctx, looked_at):
    message = "\n".join([
        "abseil's source is needed to build for this platform (Debian's libabsl-dev is Linux",
        "only), and none was found (looked at %s)." % looked_at,
        "Get abseil-cpp LTS 20220623.1 (https://github.com/abseil/abseil-cpp/releases/tag/20220623.1),",
        "then point the build at it: %s=<dir> in the environment." % _ENV,
    ])
    ctx.file("missing_source.bzl", _MISSING_BZL.format(message = message))
    ctx.file("BUILD.bazel", "")
    packages = {}
    for target in ctx.attr.stub_targets:
        package, name = target.split(":")
        packages.setdefault(package, []).append(name)
    for package, names in packages.items():
        lines = [
            'load("//:missing_source.bzl", "missing_source")',
            "",
            'package(default_visibility = ["//visibility:public"])',
            "",
        ]
        lines += ["missing_source(name = %r)" % name for name in names]
        ctx.file(package + "/BUILD.bazel", "\n".join(lines) + "\n")

def _abseil_source_impl(ctx):
    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    source, looked_at = _source_dir(ctx)
    if source:
        _link_source(ctx, source)
    else:
        _write_stubs(ctx, looked_at)

abseil_source = repository_rule(
    implementation = _abseil_source_impl,
    attrs = {
        "stub_targets": attr.string_list(
            doc = "`package:name` of the targets to stand in for when there is no tree.",
            mandatory = True,
        ),
    },
    environ = [_ENV],
    local = True,
)
