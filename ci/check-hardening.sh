#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Reads a built libmonitor.so and fails unless every hardening property of SECURITY.md ("Hardened
# build") is there, and unless the only exported symbols are the C ABI (mon_*) and the C++ API
# (mon::). Usage: ci/check-hardening.sh path/to/libmonitor.so   (CTest runs it as HardenedBuild).
set -uo pipefail
lib=${1:?usage: $0 libmonitor.so}
[ -f "$lib" ] || { echo "check-hardening: no such file: $lib"; exit 2; }
fail=0
ok() { echo "  ok    $1"; }
bad() { echo "  FAIL  $1"; fail=1; }

headers=$(readelf -W --file-header "$lib")
segments=$(readelf -W --program-headers "$lib")
dynamic=$(readelf -W --dynamic "$lib")
notes=$(readelf -W --notes "$lib")
imports=$(readelf -W --dyn-syms "$lib" | awk '$7 == "UND" {print $8}' | sed 's/@.*//')
echo "check-hardening: $lib"

# PIC: a shared object (ET_DYN) without text relocations.
if grep -qE 'Type:\s+DYN' <<<"$headers" && ! grep -q TEXTREL <<<"$dynamic"; then
  ok "position independent (ET_DYN, no TEXTREL)"
else
  bad "position independent (ET_DYN, no TEXTREL)"
fi
# Full RELRO: a GNU_RELRO segment and BIND_NOW (FLAGS BIND_NOW or FLAGS_1 NOW).
if grep -q GNU_RELRO <<<"$segments"; then ok "GNU_RELRO segment"; else bad "GNU_RELRO segment (-z relro)"; fi
if grep -qE '\(FLAGS\).*BIND_NOW|\(FLAGS_1\).*\bNOW\b|\(BIND_NOW\)' <<<"$dynamic"; then
  ok "BIND_NOW"
else
  bad "BIND_NOW (-z now)"
fi
# Non-executable stack: GNU_STACK present and not executable.
stack=$(grep GNU_STACK <<<"$segments" || true)
if [ -n "$stack" ] && ! grep -qE 'RWE|\bE\s+0x' <<<"$stack"; then
  ok "non-executable stack (GNU_STACK $(awk '{print $7}' <<<"$stack"))"
else
  bad "non-executable stack (GNU_STACK: ${stack:-missing})"
fi
# CET. Shadow stack: the GNU property note must carry SHSTK. Indirect branch tracking: Debian 12's
# glibc ships crti.o (the _init that DT_INIT points at) without ENDBR64 and without the property, so
# the linker rightly leaves IBT out of the note (forcing it with -z ibt would be a false claim);
# what we check instead is that our own code is instrumented: every exported function starts with
# endbr64 (-fcf-protection), and the note carries IBT wherever the C library's objects allow it.
if [ "$(uname -m)" != x86_64 ]; then
  ok "CET not applicable on $(uname -m)"
else
  feature=$(grep -o 'x86 feature: .*' <<<"$notes" || true)
  if grep -q SHSTK <<<"$feature"; then ok "CET shadow stack (${feature})"; else bad "CET shadow stack (.note.gnu.property SHSTK; -fcf-protection, -z shstk)"; fi
  funcs=$(readelf -W --dyn-syms "$lib" | awk '$1 ~ /^[0-9]+:$/ && $4 == "FUNC" && $7 != "UND" {print $2, $8}' | sed 's/@.*//')
  total=$(wc -l <<<"$funcs")
  missing=$(objdump -d --no-show-raw-insn "$lib" | awk '
    /^[0-9a-f]+ <.*>:$/ { addr = $1; sub(/^0+/, "", addr); getline; split($0, f, "\t"); first[addr] = f[2] }
    END { for (a in first) print a, first[a] }' | awk 'NR == FNR { ins[$1] = $2; next }
    { a = $1; sub(/^0+/, "", a); if (ins[a] != "endbr64") print $2 }' - <(echo "$funcs"))
  if grep -q IBT <<<"$feature"; then
    ok "CET indirect branch tracking (note: IBT)"
  elif [ -z "$missing" ]; then
    ok "CET indirect branch tracking: all $total exported functions start with endbr64 (note lacks IBT: the C library's crti.o)"
  else
    bad "CET indirect branch tracking: $(wc -l <<<"$missing") of $total exported functions without endbr64, e.g.:"
    head -5 <<<"$missing" | sed 's/^/          /'
  fi
fi
# Stack protector: functions with arrays on the stack exist (control buffers), so the canary
# check must be imported.
if grep -qx '__stack_chk_fail' <<<"$imports"; then
  ok "stack protector (__stack_chk_fail imported)"
else
  bad "stack protector (__stack_chk_fail not imported; -fstack-protector-strong)"
fi
# Fortify: where the compiler cannot prove a bound on memcpy, read, poll and friends but knows the
# object's size, it calls the checked __*_chk variant. Calls whose bound is proven, or whose target
# size is unknown to the compiler, stay plain: a library can therefore legitimately import none, and
# the binary alone cannot prove the flag was used. So: _chk imports are proof; without them, the
# compile commands (second argument, optional) must show -D_FORTIFY_SOURCE.
chk=$(grep -E '^__.*_chk$' <<<"$imports" | grep -v __stack_chk_fail | tr '\n' ' ')
if [ -n "$chk" ]; then
  ok "fortify (_chk imports: $chk)"
elif [ -n "${2:-}" ] && [ -f "$2" ]; then
  if grep -q -- '-D_FORTIFY_SOURCE=[23]' "$2"; then
    ok "fortify: no __*_chk import (every bound proven); -D_FORTIFY_SOURCE in $2"
  else
    bad "fortify: no __*_chk import and no -D_FORTIFY_SOURCE in $2"
  fi
else
  echo "  note  fortify: no __*_chk import; the library may call none (pass compile_commands.json to check the flag)"
fi
# Exports: every defined dynamic symbol is mon_* or, demangled, mon::... (typeinfo and vtables of
# mon:: classes included). The version node itself (MONITOR_1) is an ABS symbol and allowed.
exports=$(readelf -W --dyn-syms "$lib" | awk '$1 ~ /^[0-9]+:$/ && $7 != "UND" && $5 != "LOCAL" && NF >= 8 {print $8}' | sed 's/@.*//' | sort -u)
stray=$(while read -r s; do
  [ -z "$s" ] && continue
  case "$s" in mon_*|MONITOR_*) continue ;; esac
  d=$(c++filt <<<"$s")
  case "$d" in mon::*|"typeinfo for mon::"*|"typeinfo name for mon::"*|"vtable for mon::"*) continue ;; esac
  echo "$s ($d)"
done <<<"$exports")
if [ -z "$stray" ]; then
  ok "exports: only mon_* and mon:: ($(wc -l <<<"$exports") symbols)"
else
  bad "exports other than mon_* and mon:: ($(wc -l <<<"$stray") symbols), e.g.:"
  head -10 <<<"$stray" | sed 's/^/          /'
fi

if ((fail)); then echo "check-hardening: FAILED"; exit 1; fi
echo "check-hardening: all properties present"
