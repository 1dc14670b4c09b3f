#!/usr/bin/env bash
# install_consume.sh BUILD_DIR SOURCE_DIR - install a built hmn into a
# temporary prefix and use it as a user would: a program built with
# pkg-config (shared, then static) and with find_package(hmn) (hmn::hmn,
# hmn::hmn_static), each run and compared; the installed CLI runs from
# outside the source tree. $HMN_CONSUMER_CFLAGS adds compiler flags (the
# sanitizer build passes its own).
set -euo pipefail
build=$1
src=$2
cc=${CC:-cc}
flags=${HMN_CONSUMER_CFLAGS:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

cmake --install "$build" --prefix "$prefix" > "$tmp/install.log"
for f in include/hmn.h bin/hmn; do
  [ -f "$prefix/$f" ] || { echo "not installed: $f" >&2; exit 1; }
done
pc=$(find "$prefix" -name hmn.pc)
libdir=$(dirname "$(dirname "$pc")")
[ -f "$libdir/libhmn.a" ] || { echo "not installed: libhmn.a" >&2; exit 1; }
so=$(find "$libdir" -maxdepth 1 -name 'libhmn.so.*.*' | head -n 1)
[ -n "$so" ] || { echo "not installed: libhmn.so.X.Y.Z" >&2; exit 1; }
soname=$(objdump -p "$so" | awk '$1 == "SONAME" {print $2}')
[ -e "$libdir/$soname" ] || { echo "no $soname beside $so" >&2; exit 1; }
# The shared library exports the public API only.
if nm -D --defined-only "$so" | awk '{print $3}' | grep -q '^hmn__'; then
  echo "libhmn.so exports internal hmn__ symbols" >&2
  exit 1
fi

export PKG_CONFIG_PATH=$libdir/pkgconfig
consumer=$src/tests/install/consumer.c
# pkg-config, shared: only -lhmn on the link line.
libs=$(pkg-config --libs hmn)
case " $libs " in *" -lz "*|*" -lOpenCL "*) echo "private libraries leak into --libs: $libs" >&2; exit 1;; esac
# shellcheck disable=SC2086
$cc $flags $(pkg-config --cflags hmn) "$consumer" -o "$tmp/pc_shared" $libs
# pkg-config, static: the private dependencies from --static.
static_libs=$(pkg-config --static --libs hmn | sed 's/-lhmn\b/-l:libhmn.a/')
# shellcheck disable=SC2086
$cc $flags $(pkg-config --cflags hmn) "$consumer" -o "$tmp/pc_static" $static_libs
if objdump -p "$tmp/pc_static" | grep -q "NEEDED.*libhmn"; then
  echo "the static consumer needs libhmn.so" >&2
  exit 1
fi

# find_package(hmn).
cmake -S "$src/tests/install" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_C_FLAGS="$flags" > "$tmp/cmake.log" || { cat "$tmp/cmake.log" >&2; exit 1; }
cmake --build "$tmp/cmake" > "$tmp/build.log" || { cat "$tmp/build.log" >&2; exit 1; }

expected=$(LD_LIBRARY_PATH=$libdir "$tmp/pc_shared")
echo "pkg-config shared: $expected"
case "$expected" in "steps 5 w0 "*) ;; *) echo "unexpected output" >&2; exit 1;; esac
for exe in "$tmp/pc_static" "$tmp/cmake/consumer_shared" "$tmp/cmake/consumer_static"; do
  got=$(LD_LIBRARY_PATH=$libdir "$exe")
  echo "$(basename "$exe"): $got"
  [ "$got" = "$expected" ] || { echo "differs from the pkg-config build" >&2; exit 1; }
done

# The installed CLI, run from elsewhere, without the source tree's kernels.
(cd "$tmp" && env -u HMN_KERNEL_DIR "$prefix/bin/hmn" run --backend ref --steps 200 --quiet \
  > "$tmp/run.log") || { cat "$tmp/run.log" >&2; exit 1; }
echo "installed hmn run: ok"
