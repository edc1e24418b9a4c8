#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The layering of docs/DESIGN.md, checked: which layer may include which (read from the #include
# lines of src/ and include/monitor/), and which code may call the kernel. Only src/sys/ calls the
# kernel; the pure layers never include system-call headers or global state.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0

# ---- Includes: the allowed arrows ---------------------------------------------------------------
# A quoted #include "dir/file" names a layer by its first directory; "monitor/..." is the public
# API. `vocab` is the part of it every layer may name (plain types, no behaviour of the library);
# `public` is all of it. A layer may always include its own headers. Every other edge fails.
# The same table is in docs/DESIGN.md, "Layers"; change both together.
vocab='monitor/credentials.hpp monitor/deny_reason.hpp monitor/export.h monitor/fd_list.hpp
       monitor/fault.hpp monitor/monitor.h monitor/refused_fds.hpp monitor/result.hpp
       monitor/unique_fd.hpp'
declare -A allowed=(
  # clang-format off
  [platform]=''                                    # kernel constants: includes nothing of ours
  [wire]=''                                        # bounds-checked byte readers and writers
  [cmsg]='platform vocab'                          # control data <-> owned descriptors
  [frame]='wire vocab'                             # the message frame
  [shm]='platform vocab'                           # judging shared-memory facts
  [auth]='cmsg wire platform vocab'                # handshake messages and state machines
  [sys]='cmsg platform vocab'                      # the only code that calls the kernel
  [core]='auth cmsg frame shm sys wire platform public'  # drives the pure layers over sys
  [capi]='core public'                             # the C ABI shims
  [public]='public'                                # include/monitor/: never src/
  # clang-format on
)

layer_of_file() {  # path -> layer name
  case $1 in
    include/monitor/*) echo public ;;
    src/*/*) local rest=${1#src/}; echo "${rest%%/*}" ;;
    *) echo unknown ;;
  esac
}

edge_allowed() {  # from-layer included-path -> 0 if allowed
  local from=$1 target=$2 to rule
  if [[ $target == monitor/* ]]; then
    for rule in ${allowed[$from]}; do
      [ "$rule" = public ] && return 0
      if [ "$rule" = vocab ]; then
        for v in $vocab; do [ "$v" = "$target" ] && return 0; done
      fi
    done
    return 1
  fi
  [[ $target == */* ]] || return 1  # every header of ours is named by its layer
  to=${target%%/*}
  [ "$from" != public ] && [ "$to" = "$from" ] && return 0
  for rule in ${allowed[$from]}; do [ "$rule" = "$to" ] && return 0; done
  return 1
}

describe() {  # layer -> the allowed list in words
  local from=$1 rule words=''
  [ "$from" = public ] || words="$from/"
  for rule in ${allowed[$from]}; do
    case $rule in
      vocab) words+=" monitor/{credentials,deny_reason,fault,fd_list,refused_fds,result,unique_fd}.hpp,monitor.h,export.h" ;;
      public) words+=" monitor/*" ;;
      *) words+=" $rule/" ;;
    esac
  done
  echo "${words# }"
}

while IFS= read -r hit; do
  file=${hit%%:*}
  rest=${hit#*:}
  line=${rest%%:*}
  target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]+)".*/\1/' <<<"${rest#*:}")
  from=$(layer_of_file "$file")
  if [ -z "${allowed[$from]+set}" ]; then
    echo "layering: $file:$line: $file is in no layer of the table (add it to ci/check-layering.sh and docs/DESIGN.md)"
    fail=1
  elif ! edge_allowed "$from" "$target"; then
    echo "layering: $file:$line includes \"$target\"; the $from layer may include only $(describe "$from")" \
      "(docs/DESIGN.md, \"Layers\")"
    fail=1
  fi
done < <(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' src include/monitor \
           --include='*.cc' --include='*.hpp' --include='*.h' | sort)

# ---- System calls: only src/sys/ --------------------------------------------------------------
syscalls='\b(sendmsg|recvmsg|recv|send|read|write|close|getsockopt|setsockopt|socket|accept4?|connect|mmap|munmap|ftruncate|fcntl|fstat|memfd_create|getpid|geteuid|getegid|poll|epoll_wait)\s*\('
for dir in src/platform src/wire src/cmsg src/frame src/auth src/shm; do
  [ -d "$dir" ] || continue
  if grep -nE "::${syscalls}|[^_a-zA-Z.>]${syscalls}" --include='*.cc' --include='*.hpp' -r "$dir" \
      | grep -vE '^\S+:\s*//|on_read|on_written|\.read\(|\.write\(' ; then
    echo "layering: a system call in the pure layer $dir"
    fail=1
  fi
  if grep -nE '#include <(unistd|fcntl|poll|sys/mman|sys/epoll)\.h>' -r "$dir"; then
    echo "layering: a system-call header in the pure layer $dir"
    fail=1
  fi
done
# The C shim holds no logic: it must not call the kernel either.
if grep -nE "::${syscalls}" -r src/capi; then
  echo "layering: src/capi calls the kernel"
  fail=1
fi
# Only src/sys closes descriptors (through unique_fd::reset).
if grep -nE '(^|[^_a-zA-Z:.>])(::)?close\s*\(' -r src --include='*.cc' --include='*.hpp' | grep -v '^src/sys/'; then
  echo "layering: close() outside src/sys"
  fail=1
fi
[ "$fail" = 0 ] && echo "layering: ok"
exit "$fail"
