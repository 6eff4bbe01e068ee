"""One fuzz source, two targets: a corpus-replay test for the normal suite and a fuzzer binary."""

def waystone_fuzz_target(name, srcs, corpus, deps = [], size = "medium", **kwargs):
    """Declares `<name>_test` and `<name>er` from the same sources.

    `<name>_test`: a cc_test (any compiler) that replays `corpus` through LLVMFuzzerTestOneInput;
    the source adds the replay tests with gtest when WAYSTONE_LIBFUZZER is not defined.
    `<name>er` (codec_fuzz -> codec_fuzzer): with `--config=fuzz` (clang), a libFuzzer binary
    (-fsanitize=fuzzer at link); otherwise the same entry point behind
    test/fuzz/standalone_main.cc, which runs the files named on its command line once each
    (reproducing a crash without clang).

    Args:
      name: base name, e.g. "codec_fuzz" for :codec_fuzz_test and :codec_fuzzer.
      srcs: the fuzz source(s), defining LLVMFuzzerTestOneInput.
      corpus: the checked-in corpus files (data of the replay test).
      deps: libraries under test.
      size: the replay test's size.
      **kwargs: passed to both rules.
    """
    native.cc_test(
        name = name + "_test",
        size = size,
        srcs = srcs,
        data = corpus,
        linkstatic = True,
        deps = deps + [
            "//test/test_common:filesystem_lib",
            "//test/test_common:runfiles_lib",
            "//third_party/system:gtest_main",
        ],
        **kwargs
    )
    native.cc_binary(
        name = name + "er",
        testonly = True,
        srcs = srcs,
        local_defines = ["WAYSTONE_LIBFUZZER"],
        linkstatic = True,
        linkopts = select({
            "//test/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + select({
            "//test/fuzz:fuzzing": [],
            "//conditions:default": ["//test/fuzz:standalone_main"],
        }),
        **kwargs
    )
