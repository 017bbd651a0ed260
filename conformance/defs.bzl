"""Build macros that turn one conformance suite into a clause x (backend, start method) matrix.

A backend `b` is a folder platform/b/ exporting capabilities.json and expectations.json; adding
it to the BACKENDS list in //conformance:BUILD.bazel is all the conformance side needs.
"""

load("@rules_cc//cc:defs.bzl", "cc_binary", "cc_test")

_REGISTRY = "//conformance:clauses.json"

def _capabilities(backend):
    return "//platform/%s:capabilities.json" % backend

def _expectations(backend):
    return "//platform/%s:expectations.json" % backend

def _instance(suite, backend, start_method):
    return "%s_%s_%s" % (suite, backend, start_method)

# The start methods each backend's OS has, where it is not all three: Windows has no fork().
_BACKEND_START_METHODS = {
    "windows": ["spawn"],
}

def backend_start_methods(backend, start_methods):
    """The start methods of `start_methods` that `backend` has."""
    return [m for m in start_methods if m in _BACKEND_START_METHODS.get(backend, start_methods)]

# The operating system each backend is built for. A suite instance is skipped (not failed) by
# `bazel test //...` under another OS's configuration, and so is every target that needs it (the
# report, the clause lint). The posix backend is POSIX.1-2008 but built and tested on Linux only.
_BACKEND_OS = {
    "linux": "@platforms//os:linux",
    "posix": "@platforms//os:linux",
    "windows": "@platforms//os:windows",
}

def _compatible_with(backend):
    if backend not in _BACKEND_OS:
        fail("backend %s: conformance/defs.bzl does not say which OS it is built for" % backend)
    return [_BACKEND_OS[backend]]

def conformance_suite(name, srcs_libs, backends, registry = _REGISTRY, **kwargs):
    """One cc_test per backend x start method, `<name>_<backend>_<start_method>`.

    Each links the start method's library (the tests written for that method, alwayslink) with
    the harness main and runs with its backend's manifests. A test_suite `name` groups them.

    Args:
      name: prefix of the instances and name of the test_suite.
      srcs_libs: dict start method -> cc_library with the tests (alwayslink = True); one
        instance per backend for each entry.
      backends: backend names, e.g. ["linux", "posix"].
      registry: the clause registry.
      **kwargs: passed to every cc_test (e.g. size, timeout).
    """
    extra_tags = kwargs.pop("tags", [])
    instances = []
    for backend in backends:
        for start_method, srcs_lib in srcs_libs.items():
            if start_method not in backend_start_methods(backend, [start_method]):
                continue
            instance = _instance(name, backend, start_method)
            instances.append(":" + instance)
            cc_test(
                name = instance,
                args = [
                    "--backend=" + backend,
                    "--start_method=" + start_method,
                    "--capabilities=$(rootpath %s)" % _capabilities(backend),
                    "--expectations=$(rootpath %s)" % _expectations(backend),
                    "--registry=$(rootpath %s)" % registry,
                ],
                data = [
                    _capabilities(backend),
                    _expectations(backend),
                    registry,
                ],
                # A self-contained binary, so the report can run it from its own runfiles.
                linkstatic = True,
                target_compatible_with = _compatible_with(backend),
                # Under ASan, not PIE: see .bazelrc (500 spawned children of a PIE suite
                # need more than 24 GB).
                linkopts = select({
                    "//conformance:asan_build": ["-no-pie"],
                    "//conditions:default": [],
                }),
                tags = [
                    "conformance",
                    "backend=" + backend,
                    "start_method=" + start_method,
                ] + extra_tags,
                deps = [
                    srcs_lib,
                    "//conformance/harness:suite_main",
                ],
                **kwargs
            )
    native.test_suite(
        name = name,
        tests = instances,
        tags = ["conformance"] + extra_tags,
    )

# The committed records of the runs the report's Robustness section shows (robustness.h).
_ROBUSTNESS_RECORDS = [
    "//conformance/records:sanitizers.json",
    "//conformance/records:fuzz.json",
]

def conformance_report(name, suite, backends, start_methods, registry = _REGISTRY, **kwargs):
    """`bazel run :name` runs every instance of `suite` and writes the conformance report.

    **kwargs go to the cc_binary (e.g. visibility).
    """
    data = [registry] + _ROBUSTNESS_RECORDS
    instances = []
    for backend in backends:
        data += [_capabilities(backend), _expectations(backend)]
        for start_method in start_methods:
            instance = ":" + _instance(suite, backend, start_method)
            data.append(instance)
            instances.append("%s:%s:$(rootpath %s):$(rootpath %s):$(rootpath %s)" % (
                backend,
                start_method,
                instance,
                _capabilities(backend),
                _expectations(backend),
            ))
    args = [
        "--registry=$(rootpath %s)" % registry,
        "--instances=" + ",".join(instances),
        "--robustness_records=" + ",".join(["$(rootpath %s)" % r for r in _ROBUSTNESS_RECORDS]),
    ]
    cc_binary(
        name = name,
        testonly = True,
        args = args,
        data = data,
        deps = ["//conformance/reporting:report_main"],
        **kwargs
    )

def conformance_lint_test(name, suite, backends, start_methods, registry = _REGISTRY):
    """Fails when a test cites an unknown clause or a clause is neither tested nor excused."""
    args = ["--registry=$(rootpath %s)" % registry]
    data = [registry]
    for backend in backends:
        for start_method in start_methods:
            instance = ":" + _instance(suite, backend, start_method)
            data.append(instance)
            args.append("--suite=$(rootpath %s)" % instance)
    cc_test(
        name = name,
        size = "small",
        args = args,
        data = data,
        deps = ["//conformance/lint:lint_main"],
    )

def conformance_registry_test(name, backends, registry = _REGISTRY):
    """Validates the registry and every backend's capability manifest and expectations."""
    args = ["--registry=$(rootpath %s)" % registry]
    data = [registry]
    for backend in backends:
        data += [_capabilities(backend), _expectations(backend)]
        args += [
            "--capabilities=%s:$(rootpath %s)" % (backend, _capabilities(backend)),
            "--expectations=%s:$(rootpath %s)" % (backend, _expectations(backend)),
        ]
    cc_test(
        name = name,
        size = "small",
        args = args,
        data = data,
        deps = ["//conformance/registry:registry_check"],
    )
