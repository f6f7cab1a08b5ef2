"""Writes the image fixtures the Mnist.Tests read, with Pillow (an implementation independent of ours).

Run with Debian's python (it has Pillow): /usr/bin/python3 make_images.py /path/to/mnist
  seven.png / seven.pgm      MNIST test image 0 (a 7), 8-bit grayscale PNG and binary PGM (P5)
  gradient.png / .pgm        61x37 noise over a gradient: Pillow's adaptive filtering picks Sub, Up and Paeth rows
                             (the tests encode None and Average rows themselves)
  wide16.pgm                 16-bit P5 of the same gradient, values scaled by 257
  rgb.png, gray-alpha.png, palette.png, gray16.png   kinds of PNG the reader must refuse with a clear message
"""
import gzip
import random
import sys
import zlib

from PIL import Image

mnist = sys.argv[1] if len(sys.argv) > 1 else "../../../../shared/data/mnist"
with gzip.open(f"{mnist}/t10k-images-idx3-ubyte.gz", "rb") as f:
    data = f.read()
seven = Image.frombytes("L", (28, 28), data[16:16 + 784])
seven.save("seven.png")
seven.save("seven.pgm")

random.seed(7)
width, height = 61, 37
pixels = bytes(min(255, max(0, (x * 4 + y * 3) % 256 + random.randint(-20, 20))) for y in range(height) for x in range(width))
gradient = Image.frombytes("L", (width, height), pixels)
gradient.save("gradient.png")
gradient.save("gradient.pgm")
wide = bytearray()
for p in pixels:
    wide += (p * 257).to_bytes(2, "big")
with open("wide16.pgm", "wb") as f:
    f.write(b"P5\n# 16-bit\n%d %d\n65535\n" % (width, height) + bytes(wide))

seven.convert("RGB").save("rgb.png")
seven.convert("LA").save("gray-alpha.png")
seven.convert("P").save("palette.png")
Image.frombytes("I;16", (28, 28), b"".join((p * 257).to_bytes(2, "little") for p in data[16:16 + 784])).save("gray16.png")

# Which filters Pillow chose for gradient.png, to show the fixture covers them all.
raw = open("gradient.png", "rb").read()
position, idat = 8, b""
while position < len(raw):
    length = int.from_bytes(raw[position:position + 4], "big")
    if raw[position + 4:position + 8] == b"IDAT":
        idat += raw[position + 8:position + 8 + length]
    position += 12 + length
rows = zlib.decompress(idat)
print("filters used in gradient.png:", sorted({rows[y * (width + 1)] for y in range(height)}))
