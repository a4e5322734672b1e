"""Make the bundled font, convanim/font/DejaVuSansCondensed.ttf, from DejaVu Sans Condensed.

The package draws with a font of its own, so pictures are the same on every
machine and the tests are deterministic. Pillow's bundled Aileron lacks the
signs the figures use (x, arrows, the minus sign, sigma) and every letter
outside ASCII; DejaVu Sans Condensed has them, is about as wide as Aileron
(so text fits its slots as before) and its licence (Bitstream Vera, DejaVu
changes in the public domain) allows redistributing a modified copy under a
name without "Bitstream" or "Vera". The subset keeps the European scripts and
the signs (about 100 KB), with the hinting (small sizes stay sharp); anything else (CJK)
comes from an installed font (convanim.fonts).

Run from the repository root (Debian: apt-get install fonts-dejavu-core):

    python tools/subset_font.py [/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf]
"""

from __future__ import annotations

import sys
from pathlib import Path

from fontTools import subset

SOURCE = "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"
OUT = Path(__file__).resolve().parent.parent / "convanim" / "font" / "DejaVuSansCondensed.ttf"

RANGES = (
    (0x0020, 0x007E),  # Basic Latin
    (0x00A0, 0x017F),  # Latin-1 Supplement, Latin Extended-A
    (0x0370, 0x03FF),  # Greek
    (0x0400, 0x045F),  # Cyrillic (Russian, Ukrainian, Serbian, Bulgarian...)
    (0x2000, 0x206F),  # General Punctuation (dashes, ellipsis, thin spaces)
    (0x2070, 0x209F),  # superscripts and subscripts
    (0x20AC, 0x20AC),  # euro sign
    (0x2190, 0x21FF),  # arrows
    (0x2200, 0x22FF),  # mathematical operators (minus, sums, products)
)


def main(source: str = SOURCE) -> None:
    options = subset.Options()
    options.hinting = True
    options.name_IDs = ["*"]  # keep the copyright, licence and names
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.layout_features = ["*"]
    font = subset.load_font(source, options)
    sub = subset.Subsetter(options)
    sub.populate(unicodes=[c for a, b in RANGES for c in range(a, b + 1)])
    sub.subset(font)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(OUT), options)
    print(f"{OUT}: {OUT.stat().st_size:,} bytes, {len(font.getBestCmap())} characters")


if __name__ == "__main__":
    main(*sys.argv[1:])
