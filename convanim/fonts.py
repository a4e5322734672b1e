"""Which font a figure is drawn with: the bundled one, a given one, or an installed one.

One :class:`Face` per figure, chosen before any work from the texts the figure
will draw (:func:`resolve`). The bundled font (a subset of DejaVu Sans Condensed,
``convanim/font/``) has every character convanim itself writes (:data:`PROGRAM_CHARS`:
ASCII, x, arrows, the minus sign, sigma) and the European scripts; a title in
another script (Chinese, say) makes :func:`resolve` look for an installed font
that has every character, through fontconfig (``fc-list :charset=...``) where it
is installed, else by reading the fonts in the usual font folders. Coverage is
read from each font's character map (fontTools), never guessed from drawn glyphs.

No Pillow here; fontTools (a dependency of fpdf2) reads the fonts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .params import SpecError
from .text import one_line
from .values import cached_hash

FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
BUNDLED_FILE = Path(__file__).resolve().parent / "font" / "DejaVuSansCondensed.ttf"
# Every character convanim's own text uses (labels, numbers, sums, captions "auto").
PROGRAM_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) | frozenset("×→−Σ…")
# Characters the bundled font has without looking (a test checks): text made of these
# needs no font file read, so an ordinary command starts without fontTools.
BUNDLED_SURE = PROGRAM_CHARS | frozenset(chr(c) for c in range(0xA0, 0x180))
MAX_NAMED = 8  # missing characters named in an error, the rest counted
INSTALL_HINT = ("give a font that has them with --font PATH (TTF, OTF, or PATH#N for face N "
                "of a TTC collection), or install one (Debian/Ubuntu: apt-get install "
                "fonts-noto-cjk for Chinese, Japanese and Korean)")


MAX_FONT_BYTES = 256 * 2**20


class FontError(SpecError):
    """A font that cannot be used, or text no font has."""


@cached_hash  # a key of every text measurement and font load
@dataclass(frozen=True)
class Face:
    """One font face: its file, its index in a collection, and its names.

    ``families`` are what SVG asks the reader's browser for (the family, then the
    typographic family when it differs: "DejaVu Sans Condensed", "DejaVu Sans");
    ``postscript`` the name the PDF embeds it under (fpdf2 adds a subset prefix).
    """

    path: str
    index: int = 0
    families: tuple[str, ...] = ()
    postscript: str = ""

    @property
    def family(self) -> str:
        return self.families[0] if self.families else ""

    @property
    def spec(self) -> str:
        """The --font value that names this face."""
        return f"{self.path}#{self.index}" if self.index else self.path


def _names(font) -> tuple[tuple[str, ...], str]:
    name = font["name"]
    families = tuple(dict.fromkeys(n for n in (name.getDebugName(1), name.getDebugName(16)) if n))
    return families, name.getDebugName(6) or "".join(families[:1]).replace(" ", "")


def _open(path: str, index: int):
    from fontTools.ttLib import TTFont

    return TTFont(path, fontNumber=index, lazy=True)


def _faces_in(path: str) -> int:
    """How many faces the file holds (1 for a single font); raises for a non-font."""
    with open(path, "rb") as f:
        head = f.read(12)
    if head[:4] == b"ttcf":
        return int.from_bytes(head[8:12], "big")
    if head[:4] in (b"\x00\x01\x00\x00", b"OTTO", b"true"):
        return 1
    raise ValueError("not a TrueType or OpenType font")


@lru_cache(maxsize=64)
def face_at(path: str, index: int = 0) -> Face:
    """The face ``index`` of the font file ``path``; FontError saying why it cannot be used."""
    p = Path(path)
    if not p.is_file():
        what = "a folder" if p.is_dir() else "no such file"
        raise FontError(f"font: got {path!r}: {what}; expected a font file "
                        f"({', '.join(FONT_SUFFIXES)}), optionally PATH#N for face N of a collection")
    if p.stat().st_size > MAX_FONT_BYTES:  # a font is read whole, more than once
        raise FontError(f"font: got {path!r}: {p.stat().st_size:,} bytes; at most "
                        f"{MAX_FONT_BYTES:,} (the largest CJK collections are about 120 MB)")
    try:
        n = _faces_in(path)
    except (OSError, ValueError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise FontError(f"font: got {path!r}: {reason}; expected a font file "
                        f"({', '.join(FONT_SUFFIXES)})") from None
    if not 0 <= index < n:
        allowed = "0 (a single font)" if n == 1 else f"0..{n - 1}"
        raise FontError(f"font: got face {index} of {path!r}, which has {n} face"
                        f"{'s' if n != 1 else ''}; allowed: {allowed}")
    import fontTools.ttLib  # noqa: F401 - outside the try: a broken install is not a broken font

    try:
        font = _open(path, index)
        families, ps = _names(font)
        if "cmap" not in font or font.getBestCmap() is None:
            raise ValueError("no character map")
    except Exception as err:  # noqa: BLE001 - fontTools raises many kinds on a broken file
        raise FontError(f"font: got {path!r}: cannot be read as a font ({err}); expected a "
                        f"font file ({', '.join(FONT_SUFFIXES)})") from None
    return Face(os.path.abspath(p), index, families, ps)


def parse_font(spec: str | os.PathLike | Face, base: Path | None = None) -> Face:
    """The face a --font value names: ``PATH`` or ``PATH#N`` (face N of a TTC), checked.

    A relative ``PATH`` is taken from ``base`` when given (the gallery spec's folder).
    A path that exists whole wins over reading a ``#N`` at its end.
    """
    if isinstance(spec, Face):
        return spec
    text = os.fspath(spec)
    if not text.strip():
        raise FontError(f"font: got {text!r}; expected a font file path")
    if "\x00" in text:
        raise FontError("font: the path holds a NUL character; expected a font file path")
    path, index = split_font(text, base)
    return face_at(str(path), index)


_FACE_NUMBER = re.compile(r"[0-9]{1,4}")


def split_font(text: str, base: Path | None = None) -> tuple[Path, int]:
    """``PATH#N`` -> (PATH, N), ``PATH`` -> (PATH, 0), a relative PATH taken from ``base``.

    The one rule for reading a font value, used by the loader and by the gallery's check
    that a spec's font stays in its folder: a file that exists under the whole name wins;
    otherwise ``#N`` with N of 1 to 4 ASCII digits is a face number. ``~`` is not
    expanded (the shell does that for a command line; a spec must not reach home).
    """
    whole = _at(base, text)
    head, sep, tail = text.rpartition("#")
    if sep and _FACE_NUMBER.fullmatch(tail) and not whole.is_file():
        return _at(base, head), int(tail)
    if sep and tail and not whole.exists():
        raise FontError(f"font: got {text[:80]!r}; after '#' expected a face number (0 to "
                        f"9999), such as {head[:60]}#0")
    return whole, 0


def _at(base: Path | None, path: str) -> Path:
    p = Path(path)
    return base / p if base is not None and not p.is_absolute() else p


@lru_cache(maxsize=256)
def charset(face: Face) -> frozenset[int]:
    """The code points ``face`` maps to a glyph (its cmap)."""
    return frozenset(_open(face.path, face.index).getBestCmap() or {})


def bundled() -> Face:
    """The bundled font (package data); its names as the font states them (a test checks)."""
    return BUNDLED


BUNDLED = Face(str(BUNDLED_FILE), 0, ("DejaVu Sans Condensed", "DejaVu Sans"), "DejaVuSansCondensed")


def needed(texts: Iterable[str | None]) -> frozenset[str]:
    """The characters to draw: those of ``texts`` and every one convanim writes itself.

    The text as it is drawn (:func:`text.one_line`): control and format characters and
    line separators become spaces, so no font is asked for them.
    """
    return PROGRAM_CHARS | frozenset(c for t in texts if t for c in one_line(t))


def missing(face: Face, chars: Iterable[str]) -> list[str]:
    """The characters of ``chars`` that ``face`` has no glyph for, in code-point order."""
    have = charset(face)
    return sorted({c for c in chars if ord(c) not in have})


def describe(chars: Iterable[str]) -> str:
    """Characters for a one-line message: 'X' (U+0058), control characters by code only."""
    chars = list(chars)
    shown = []
    for c in chars[:MAX_NAMED]:
        code = f"U+{ord(c):04X}"
        printable = unicodedata.category(c)[0] not in "CZ" or c == " "
        shown.append(f"{c!r} ({code})" if printable else code)
    more = len(chars) - MAX_NAMED
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def resolve(texts: Iterable[str | None], font: str | os.PathLike | Face | None = None,
            base: Path | None = None,
            discover: Callable[[frozenset[str]], Face | None] | None = None) -> Face:
    """The face a figure drawing ``texts`` (and convanim's own text) is drawn with.

    ``font`` given: that face, which must have every character. Else the bundled
    font when it has them all, else an installed font that has them all
    (``discover``, by default :func:`installed`). FontError naming the characters
    when there is none.
    """
    chars = needed(texts)
    if font is not None:
        face = parse_font(font, base)
        if face == BUNDLED and chars <= BUNDLED_SURE:
            return face  # a job's font resolved before (the bundled one): no font file read
        lacks = missing(face, chars)
        if lacks:
            raise FontError(f"font: {face.spec} has no glyph for {describe(lacks)}; "
                            f"choose a font that has every character of the text")
        return face
    if chars <= BUNDLED_SURE:
        return bundled()
    lacks = missing(bundled(), chars)
    if not lacks:
        return bundled()
    found = (discover or installed)(frozenset(chars))
    if found is None:
        raise FontError(f"text: no font has {describe(lacks)}: the bundled font lacks "
                        f"{'it' if len(lacks) == 1 else 'them'} and no installed font has every "
                        f"character of the text; {INSTALL_HINT}")
    return found


# Finding an installed font -----------------------------------------------------------

FONT_DIRS = tuple(d for d in (
    "/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts",
    "/Library/Fonts", "/System/Library/Fonts", "~/Library/Fonts",
    os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"),
    # Only where the variable is set: an empty one would make a path relative to the cwd.
    os.path.join(os.environ["LOCALAPPDATA"], "Microsoft", "Windows", "Fonts")
    if os.environ.get("LOCALAPPDATA") else "",
) if d)


def _script_tag(chars: frozenset[str]) -> str:
    """The CJK region a text most likely wants: JP with kana, KR with hangul, else SC."""
    if any("\u3040" <= c <= "\u30ff" for c in chars):
        return "JP"
    if any("\uac00" <= c <= "\ud7af" or "\u1100" <= c <= "\u11ff" for c in chars):
        return "KR"
    return "SC"


def _rank(family: str, style: str, chars: frozenset[str], path: str, index: int) -> tuple:
    """Sort key of a candidate: regular sans-serif first, the text's CJK region first."""
    fam, style = family.lower(), style.lower()
    return (style not in ("regular", "book", "normal", "roman", ""),
            "serif" in fam and "sans" not in fam, "mono" in fam,
            f" {_script_tag(chars).lower()}" not in f"{fam} ", len(fam), fam, path, index)


Candidate = tuple[str, int, str, str]  # path, face index, family, style


def _fc_candidates(chars: frozenset[str]) -> list[Candidate] | None:
    """The faces fontconfig says have every character of ``chars``; None without fc-list."""
    exe = shutil.which("fc-list")
    if exe is None:
        return None
    codes = " ".join(f"{ord(c):x}" for c in sorted(chars))
    fmt = "%{file}\t%{index}\t%{family[0]}\t%{style[0]}\n"
    try:
        out = subprocess.run([exe, f":charset={codes}", "--format", fmt], capture_output=True,
                             text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    got = []
    for line in out.splitlines():
        parts = line.split("\t")
        # Indices of 65536 and up are named instances of a variable font: the face itself will do.
        if (len(parts) == 4 and parts[0].lower().endswith(FONT_SUFFIXES) and parts[1].isdigit()
                and int(parts[1]) < 0x10000):
            got.append((parts[0], int(parts[1]), parts[2], parts[3]))
    return got


def _folder_candidates() -> list[Candidate]:
    """Every face of every font file in :data:`FONT_DIRS`, with its names."""
    got = []
    for folder in FONT_DIRS:
        root = Path(folder).expanduser()
        if not root.is_dir():
            continue
        for p in sorted(root.rglob("*")):
            if p.suffix.lower() not in FONT_SUFFIXES or not p.is_file():
                continue
            try:
                for i in range(_faces_in(str(p))):
                    name = _open(str(p), i)["name"]
                    got.append((str(p), i, name.getDebugName(1) or "", name.getDebugName(2) or ""))
            except Exception:  # noqa: BLE001, S112 - an unreadable font is not a candidate
                continue
    return got


@lru_cache(maxsize=32)
def installed(chars: frozenset[str]) -> Face | None:
    """An installed face that has every character of ``chars``, or None.

    Candidates from fontconfig when ``fc-list`` is there, else every font in the
    usual folders, best first (:func:`_rank`: the choice is the same run to run);
    the first whose own character map has every character wins.
    """
    candidates = _fc_candidates(chars)
    if candidates is None:
        candidates = _folder_candidates()
    for path, index, family, style in sorted(candidates, key=lambda c: _rank(c[2], c[3], chars, c[0], c[1])):
        try:
            face = face_at(path, index)
            if not missing(face, chars):
                return face
        except Exception:  # noqa: BLE001, S112 - an unreadable font is not a candidate
            continue
    return None
