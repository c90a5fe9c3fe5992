#!/usr/bin/env bash
# Compiles bpf/tls.bpf.c into bpf/tls.bpf.o (or into the path given as $1) with Debian's clang:
# no -g (no BTF or debug info), fixed flags and relative input names, so the same clang gives the
# same bytes (test/bpf/object.test.ts rebuilds and compares with the committed object).
# Needs: clang (>= 14), linux-libc-dev and libbpf-dev (headers only: bpf/bpf_helpers.h).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/tls.bpf.o}"
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac

if ! command -v clang >/dev/null; then
  echo "bpf/build.sh: clang is not installed (apt-get install clang libbpf-dev)" >&2
  exit 2
fi
if [ ! -f /usr/include/bpf/bpf_helpers.h ]; then
  echo "bpf/build.sh: /usr/include/bpf/bpf_helpers.h is missing (apt-get install libbpf-dev)" >&2
  exit 2
fi

# The programs read x86-64 registers; asm/types.h lives in the multiarch include folder.
cd "$here"
clang -target bpf -mcpu=v3 -O2 -Wall -Werror \
  -I/usr/include/x86_64-linux-gnu \
  -c tls.bpf.c -o "$out"
