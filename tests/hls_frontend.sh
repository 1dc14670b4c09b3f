#!/bin/bash
# hls_frontend.sh - compiles the FPGA kernel's HLS top (hw/hmn_step_hls.cpp
# and every kernels/ header it includes) as the Vitis HLS front end sees
# it: __SYNTHESIS__ defined (so the HLS pragmas are emitted), no
# host-architecture macro, no C library and no assert.h (only the
# compiler's freestanding headers and sim/frontend/), no Random123 (only
# hw/include's stand-in). Then checks the sources the way a csynth report
# would be read: every loop carries a label and a LOOP_TRIPCOUNT, every
# process has INLINE off, and no kernels/ header the top includes names
# Random123's own headers.
# Usage: hls_frontend.sh SOURCE_DIR [CXX]
set -u
src=${1:?source dir}
cxx=${2:-g++}
fail=0
say() { echo "hls_frontend: $*"; }

undef=()
for m in __x86_64__ __x86_64 __amd64__ __amd64 __i386__ __i386 i386 __SSE__ __SSE2__ \
         __SSE3__ __SSSE3__ __SSE4_1__ __SSE4_2__ __AVX__ __AVX2__ __MMX__ __aarch64__ \
         __arm__ __powerpc__ __powerpc64__ __ppc__ __linux__ __linux linux __unix__ __gnu_linux__; do
  undef+=("-U$m")
done
freestanding=$("$cxx" -print-file-name=include)
out=$("$cxx" -std=c++14 -fsyntax-only -ffreestanding -nostdinc -isystem "$freestanding" \
      "${undef[@]}" -D__SYNTHESIS__ -Wall -Wextra -Werror -Wno-unknown-pragmas -Wno-unused-label \
      -I "$src/sim/frontend" -I "$src/hw/include" -I "$src/kernels" -I "$src/hw" \
      "$src/hw/hmn_step_hls.cpp" 2>&1)
if [ $? -ne 0 ]; then
  say "the HLS top does not compile as the HLS front end sees it:"
  echo "$out"
  fail=1
else
  say "hw/hmn_step_hls.cpp compiles without host macros, C library, assert or Random123"
fi
# The macros really were gone: a probe that needs them fails.
probe=$(printf '#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)\n#error host\n#endif\n' |
        "$cxx" -x c++ -fsyntax-only -ffreestanding -nostdinc "${undef[@]}" - 2>&1)
if [ $? -ne 0 ]; then
  say "a host-architecture macro survived: $probe"
  fail=1
fi

# Every loop of the top: a label on the line before, a LOOP_TRIPCOUNT among
# the pragmas right after its opening line.
top="$src/hw/hmn_step_hls.cpp"
check=$(awk '
  /^[ \t]*for[ \t]*\(/ {
    loops++; line = NR
    if (prev !~ /^[ \t]*[A-Za-z_][A-Za-z_0-9]*:[ \t]*$/) { print "line " NR ": loop without a label"; bad++ }
    want = 1; seen = 0; next
  }
  want && /^#pragma HLS/ { if ($0 ~ /LOOP_TRIPCOUNT/) seen = 1; next }
  want { if (!seen) { print "line " line ": loop without LOOP_TRIPCOUNT"; bad++ } want = 0 }
  { if ($0 !~ /^[ \t]*$/) prev = $0 }
  END { print loops " loops"; exit bad > 0 }' "$top")
if [ $? -ne 0 ]; then
  say "loops without a label or trip count:"
  echo "$check"
  fail=1
else
  say "every loop of hw/hmn_step_hls.cpp has a label and a trip count ($check)"
fi
# The same for every loop of the kernels/ functions the top reaches: the
# functions it calls, and the ones those call, to the end (Random123's
# stand-in in hw/include included; a function
# starts at an HMN_INLINE line that names it and ends at the first "}" in
# column 0).
headers=("$src"/kernels/*.h "$src"/hw/include/Random123/philox.h)
defs=$(awk '/^HMN_INLINE / && match($0, /(hmnk_[a-z0-9_]+|philox4x32[a-z0-9_]*)\(/) {
              name = substr($0, RSTART, RLENGTH - 1); start = FNR; next }
            name != "" && /^}/ { print name, FILENAME, start, FNR; name = "" }' "${headers[@]}")
calls() { grep -oE '(hmnk_[a-z0-9_]+|philox4x32[a-z0-9_]*)\(' | tr -d '(' | sort -u; }
reached=$(calls < "$top")
while :; do
  more=$(for f in $reached; do
           echo "$defs" | awk -v f="$f" '$1 == f' | while read -r _ file a b; do
             sed -n "${a},${b}p" "$file"
           done
         done | calls)
  next_set=$(printf '%s\n%s\n' "$reached" "$more" | sed '/^$/d' | sort -u)
  [ "$next_set" = "$reached" ] && break
  reached=$next_set
done
header_loops=0
header_bad=0
for f in $reached; do
  while read -r _ file a b; do
    [ -n "$file" ] || continue
    out=$(sed -n "${a},${b}p" "$file" | awk -v where="$f" '
      /^[ \t]*for[ \t]*\(/ {
        loops++; line = NR
        if (prev !~ /^[ \t]*[A-Za-z_][A-Za-z_0-9]*:[ \t]*$/) { print where ": loop without a label"; bad++ }
        want = 1; seen = 0; next
      }
      want && /^[ \t]*(#pragma HLS|HMN_HLS_|HMN_PIPELINE)/ { if ($0 ~ /TRIPCOUNT/) seen = 1; next }
      want { if (!seen) { print where ": loop without a trip count"; bad++ } want = 0 }
      { if ($0 !~ /^[ \t]*$/) prev = $0 }
      END { print loops + 0; exit bad > 0 }')
    if [ $? -ne 0 ]; then
      say "loops of kernels/ functions the top reaches, without a label or trip count:"
      echo "$out" | sed '$d'
      header_bad=1
    fi
    header_loops=$((header_loops + $(echo "$out" | tail -n 1)))
  done < <(echo "$defs" | awk -v f="$f" '$1 == f')
done
if [ "$header_bad" -ne 0 ]; then
  fail=1
elif [ "$header_loops" -eq 0 ]; then
  say "found no loop in the kernels/ functions the top reaches: the search itself is broken"
  fail=1
else
  say "the $header_loops loops of kernels/ functions the top reaches have labels and trip counts"
fi
# Every function of the top but the trees has INLINE off.
missing=$(awk '
  /^(void|extern "C" void) [a-z_]+\(/ { name = $0; want = 1 }
  want && /\{[ \t]*$/ { getline nxt; if (nxt !~ /#pragma HLS INLINE off/ && name !~ /hmn_fpga_step/) print name; want = 0 }' "$top")
if [ -n "$missing" ]; then
  say "processes without INLINE off: $missing"
  fail=1
fi
# No hardware-path source includes Random123's own headers.
if grep -n "Random123/\(features\|array\|philox\)" "$top" "$src/kernels/hmn_philox.h" \
     "$src/kernels/hmn_hls.h" "$src/hw/hmn_step_hls.h" "$src/hw/hmn_hls_types.h" >/dev/null 2>&1; then
  say "a hardware-path source names Random123"
  fail=1
fi
exit $fail
