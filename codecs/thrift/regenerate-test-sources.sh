#!/usr/bin/env bash
# Regenerates the committed Java sources of the Thrift test fixtures. Needs the Thrift compiler
# 0.17.0 (Debian: apt-get install thrift-compiler), matching libthrift in the parent POM.
# The build itself never runs this.
set -euo pipefail
cd "$(dirname "$0")"
rm -rf src/test/java/dev/parley/codec/thrift/fixtures
thrift --gen java:generated_annotations=suppress -out src/test/java src/test/thrift/fixtures.thrift
