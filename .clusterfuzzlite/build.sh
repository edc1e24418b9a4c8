#!/bin/bash -eu
# SPDX-License-Identifier: MIT
# ClusterFuzzLite's build step: the same build as OSS-Fuzz's (ci/oss-fuzz/build.sh), which reads
# only $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $SRC $OUT $WORK and writes every target of
# fuzz/CMakeLists.txt with its seed corpus, dictionary and options to $OUT.
exec "$SRC/monitor/ci/oss-fuzz/build.sh"
