#!/usr/bin/env bash
# The layering is the documentation (../shared/DESIGN.md): only src/sys/ calls the kernel, and the
# pure layers never include system-call headers or global state. A grep is enough to keep it so.
set -euo pipefail
cd "$(dirname "$0")/.."
fail=0
syscalls='\b(sendmsg|recvmsg|recv|send|read|write|close|getsockopt|setsockopt|socket|accept4?|connect|mmap|munmap|ftruncate|fcntl|fstat|memfd_create|getpid|geteuid|getegid|poll|epoll_wait)\s*\('
for dir in src/wire src/cmsg src/frame src/auth src/shm; do
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
