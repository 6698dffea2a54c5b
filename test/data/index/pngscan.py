#!/usr/bin/env python3
# pngscan.py - what a screenshot shows, for t_online_index.sh. The PNG is
# decoded here (zlib, the five PNG filters; 8-bit grey or RGB(A)), so the
# checks depend neither on hanko's QR code (libqrencode, qr.c) nor on
# anything outside the Python standard library and zbar.
#   pngscan.py qr IMAGE.png [MAXROWS]
#       the payload of every QR code (zbar, libzbar.so.0 through ctypes),
#       one a line; exit 1 when there is none
#   pngscan.py count RRGGBB IMAGE.png [MAXROWS]
#       the number of pixels of that colour
import ctypes
import struct
import sys
import zlib


def png_rows(path, maxrows):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        sys.exit(path + ": not a PNG file")
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    if depth != 8 or interlace != 0 or ctype not in (0, 2, 4, 6):
        sys.exit(path + ": only 8-bit non-interlaced grey/RGB(A) PNG")
    bpp = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(idat)
    stride = w * bpp
    h = min(h, maxrows)
    prev = bytearray(stride)
    rows = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        rows.append(bytes(line))
        prev = line
    return w, h, bpp, rows


def count(rgb, path, maxrows):
    want = bytes.fromhex(rgb)
    w, h, bpp, rows = png_rows(path, maxrows)
    print(sum(1 for r in rows for x in range(0, w * bpp, bpp)
              if r[x:x + 3] == want))


def qr(path, maxrows):
    w, h, bpp, rows = png_rows(path, maxrows)
    # grey: the green channel (or the grey one) is enough for black
    # modules on white
    grey = b"".join(r[1 if bpp >= 3 else 0::bpp] for r in rows)
    z = ctypes.CDLL("libzbar.so.0")
    vp = ctypes.c_void_p
    z.zbar_image_scanner_create.restype = vp
    z.zbar_image_scanner_set_config.argtypes = [vp, ctypes.c_int,
                                                ctypes.c_int, ctypes.c_int]
    z.zbar_image_create.restype = vp
    z.zbar_image_set_format.argtypes = [vp, ctypes.c_ulong]
    z.zbar_image_set_size.argtypes = [vp, ctypes.c_uint, ctypes.c_uint]
    z.zbar_image_set_data.argtypes = [vp, ctypes.c_char_p, ctypes.c_ulong, vp]
    z.zbar_scan_image.argtypes = [vp, vp]
    z.zbar_image_first_symbol.argtypes = [vp]
    z.zbar_image_first_symbol.restype = vp
    z.zbar_symbol_next.argtypes = [vp]
    z.zbar_symbol_next.restype = vp
    z.zbar_symbol_get_data.argtypes = [vp]
    z.zbar_symbol_get_data.restype = ctypes.c_char_p
    sc = z.zbar_image_scanner_create()
    z.zbar_image_scanner_set_config(sc, 0, 0, 1)   # ZBAR_CFG_ENABLE
    img = z.zbar_image_create()
    fourcc = ord("Y") | ord("8") << 8 | ord("0") << 16 | ord("0") << 24
    z.zbar_image_set_format(img, fourcc)
    z.zbar_image_set_size(img, w, h)
    buf = ctypes.create_string_buffer(grey, len(grey))
    z.zbar_image_set_data(img, buf, len(grey), None)
    if z.zbar_scan_image(sc, img) <= 0:
        print(path + ": no QR code found", file=sys.stderr)
        sys.exit(1)
    s = z.zbar_image_first_symbol(img)
    while s:
        print(z.zbar_symbol_get_data(s).decode("utf-8", "replace"))
        s = z.zbar_symbol_next(s)


def main():
    a = sys.argv[1:]
    if len(a) >= 2 and a[0] == "qr":
        qr(a[1], int(a[2]) if len(a) > 2 else 1 << 30)
    elif len(a) >= 3 and a[0] == "count":
        count(a[1], a[2], int(a[3]) if len(a) > 3 else 1 << 30)
    else:
        sys.exit("usage: pngscan.py qr IMAGE [MAXROWS] | "
                 "count RRGGBB IMAGE [MAXROWS]")


main()
