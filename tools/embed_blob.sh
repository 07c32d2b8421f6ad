#!/bin/sh
# Writes an assembly file that embeds a binary as stub_blob..stub_blob_end.
# usage: embed_blob.sh INPUT OUTPUT
set -eu
in=$(realpath "$1")
cat > "$2" <<ASM
    .section .rodata
    .balign 16
    .globl stub_blob
    .globl stub_blob_end
stub_blob:
    .incbin "$in"
stub_blob_end:
    .section .note.GNU-stack, "", @progbits
ASM
