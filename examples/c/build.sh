#!/bin/sh
# Builds a C module that shares a biasrc heap: position-independent code over an imported shared memory.
#   examples/c/build.sh [SOURCE.c [OUT.wasm]]      (default: champ.c -> build/champ.wasm)
# Needs clang-19 and wasm-ld-19 (Debian: apt-get install clang-19 lld-19), and include/biasrc.h from
# `npm run build`. Override the tools with CC=... WASM_LD=...; extra compiler flags with CFLAGS=...
# docs/EMBEDDING.md explains each flag.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
src=${1:-$here/champ.c}
out=${2:-$here/build/champ.wasm}
CC=${CC:-clang-19}
WASM_LD=${WASM_LD:-wasm-ld-19}
if [ ! -f "$root/include/biasrc.h" ]; then
  echo "build.sh: $root/include/biasrc.h is missing: run npm run build first (it is generated from the core)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
obj="${out%.wasm}.o"

# Compile only: the clang driver would run wasm-opt after linking whenever binaryen is on PATH (npm puts
# node_modules/.bin first, and assemblyscript brings binaryen), and clang 19's --no-wasm-opt skips the link
# altogether. So the link is wasm-ld's own, below.
$CC --target=wasm32-unknown-unknown -O2 -fPIC -matomics -mbulk-memory -ffreestanding -nostdlib \
  -Wall -Wextra -Werror ${CFLAGS:-} -I "$root/include" -c "$src" -o "$obj"

$WASM_LD --experimental-pic -pie --import-memory --shared-memory --max-memory=4294967296 --no-entry \
  --export=__wasm_init_tls --export=__tls_size --export=__tls_align \
  --export=__wasm_apply_data_relocs --export=__wasm_call_ctors \
  -o "$out" "$obj"
rm -f "$obj"
echo "built $out"
