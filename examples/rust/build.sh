#!/bin/sh
# Builds the no_std Rust example into build/rust_list.wasm, a module that shares a biasrc heap.
#   examples/rust/build.sh [OUT.wasm]
# Needs Debian's rustc 1.63 with the wasm32 standard library (apt-get install rustc libstd-rust-dev-wasm32),
# clang-19 and lld-19, and include/biasrc.rs from `npm run build`. Override with RUSTC=..., CC=..., WASM_LD=...
#
# rustc 1.63 ignores -C relocation-model=pic for wasm32, so it emits LLVM bitcode (the crate and, through LTO, the
# parts of core it uses) and clang compiles that as position-independent code; wasm-ld links it as for C.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-$here/build/rust_list.wasm}
RUSTC=${RUSTC:-/usr/bin/rustc}
CC=${CC:-clang-19}
WASM_LD=${WASM_LD:-wasm-ld-19}
if [ ! -f "$root/include/biasrc.rs" ]; then
  echo "build.sh: $root/include/biasrc.rs is missing: run npm run build first (it is generated from the core)" >&2
  exit 1
fi
mkdir -p "$(dirname "$out")"
bc="${out%.wasm}.bc"
obj="${out%.wasm}.o"

$RUSTC --edition 2021 --target wasm32-unknown-unknown --crate-type cdylib --crate-name rust_list \
  -C opt-level=2 -C panic=abort -C lto=fat -C debuginfo=0 -D warnings --emit=llvm-bc -o "$bc" "$here/src/lib.rs"
$CC --target=wasm32-unknown-unknown -O2 -fPIC -matomics -mbulk-memory -c "$bc" -o "$obj"
$WASM_LD --experimental-pic -pie --import-memory --shared-memory --max-memory=4294967296 --no-entry \
  --export=__wasm_init_tls --export=__tls_size --export=__tls_align \
  --export=__wasm_apply_data_relocs --export=__wasm_call_ctors \
  --export=rust_list_range --export=rust_list_push --export=rust_list_len --export=rust_list_sum \
  --export=rust_clone_drop --export=rust_list_drop --export=rust_name --export=rust_name_len \
  -o "$out" "$obj"
rm -f "$bc" "$obj"
echo "built $out"
