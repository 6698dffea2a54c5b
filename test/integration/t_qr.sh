#!/usr/bin/env bash
# t_qr.sh - "qr encode" and "qr decode" (media-format/SPEC.md 11): a file
# becomes numbered PNG QR codes and comes back from them in any order,
# with duplicates; a missing part is named; a mixed set is refused.
. "$(dirname "$0")/lib.sh"
fresh_tmp
T=$HANKO_TMP
head -c 4000 /dev/urandom >"$T/csr.der"
head -c 1500 /dev/urandom >"$T/other.der"
ok "qr encode 4000 bytes" "$OFF" qr encode "$T/csr.der" --out "$T/codes" --chunk 900 --scale 2
check "five numbered PNG files" test "$(ls "$T/codes" | tr '\n' ' ')" = \
	"part-001-of-005.png part-002-of-005.png part-003-of-005.png part-004-of-005.png part-005-of-005.png "
check "they are PNG images" bash -c "file '$T/codes/part-001-of-005.png' | grep -q 'PNG image data'"
ok "qr decode, shuffled, with duplicates" "$OFF" qr decode --out "$T/back.der" \
	"$T/codes/part-004-of-005.png" "$T/codes/part-002-of-005.png" "$T/codes/part-005-of-005.png" \
	"$T/codes/part-001-of-005.png" "$T/codes/part-004-of-005.png" "$T/codes/part-003-of-005.png"
check "the file comes back byte for byte" cmp "$T/csr.der" "$T/back.der"
check "the digest is printed" grep -q "SHA-256 $(sha256sum "$T/csr.der" | cut -c1-2 | tr a-f A-F):" "$T/out"
fails "a missing part is named" 3 "2 of 5 parts missing: 2, 4" "$OFF" qr decode --out "$T/x" \
	"$T/codes/part-001-of-005.png" "$T/codes/part-003-of-005.png" "$T/codes/part-005-of-005.png"
check "nothing written" test ! -e "$T/x"
ok "encode another file" "$OFF" qr encode "$T/other.der" --out "$T/codes2" --chunk 900
fails "a mixed set is refused" 3 "mixed set" "$OFF" qr decode --out "$T/x" \
	"$T/codes/part-001-of-005.png" "$T/codes2/part-002-of-002.png"
fails "a file that is not PNG" 3 "not a PNG file" "$OFF" qr decode --out "$T/x" "$T/csr.der"
fails "never overwrites" 7 "already exists" "$OFF" qr decode --out "$T/back.der" "$T/codes/part-001-of-005.png"
fails "scale below 2 pixels a module" 2 "--scale 1" "$OFF" qr encode "$T/csr.der" --out "$T/c1" --scale 1
ok "--terminal prints the codes" "$OFF" qr encode "$T/other.der" --out "$T/codes3" --terminal
check "half blocks on the terminal" grep -q '▀' "$T/out"
# Codes written onto removable media: exFAT or NTFS through FUSE takes no
# rename flags (EINVAL), FAT keeps no modes (chmod: EPERM); the shim
# test/data/media/fatlike.c makes $T/usb so. They were refused (exit 8).
cc -shared -fPIC -o "$T/fatlike.so" "$HANKO_SRC/test/data/media/fatlike.c" -ldl
mkdir "$T/usb"
ok "qr encode onto a medium without rename flags or modes" env HK_FATLIKE_PREFIX="$T/usb" \
	HK_FATLIKE_TRACE="$T/fat.trace" LD_PRELOAD="$T/fatlike.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" qr encode "$T/other.der" --out "$T/usb/codes" --chunk 900
check "... the medium refused the flag and the mode (the shim at work)" \
	bash -c "grep -q '^renameat2 ' '$T/fat.trace' && grep -q '^chmod ' '$T/fat.trace'"
ok "... the codes decode from the medium" "$OFF" qr decode --out "$T/usb-back.der" "$T/usb/codes"/*.png
check "... byte for byte" cmp "$T/other.der" "$T/usb-back.der"
ok "qr decode onto exFAT through FUSE (no rename flags; chmod taken)" env HK_FATLIKE_PREFIX="$T/usb" \
	HK_FATLIKE_CHMOD=pass HK_FATLIKE_TRACE="$T/fat2.trace" LD_PRELOAD="$T/fatlike.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" qr decode --out "$T/usb/back.der" "$T/usb/codes"/*.png
check "... the flag refused (the shim at work), the file byte for byte" \
	bash -c "grep -q '^renameat2 ' '$T/fat2.trace' && cmp '$T/other.der' '$T/usb/back.der'"
fails "... never over a file already there" 7 "usb/back.der: already exists" env HK_FATLIKE_PREFIX="$T/usb" \
	HK_FATLIKE_CHMOD=pass LD_PRELOAD="$T/fatlike.so" \
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0" \
	"$OFF" qr decode --out "$T/usb/back.der" "$T/usb/codes"/*.png
if command -v zbarimg >/dev/null; then
	ok "zbarimg (stock zbar) reads part 1" bash -c "zbarimg --raw -q -Sbinary '$T/codes/part-001-of-005.png' | head -c 4 | grep -q HKQR"
fi
finish
