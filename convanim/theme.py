"""Colours of the picture, by role, and the named presets (themes).

Shape colours (fills and lines) come first and make the palette of a picture
without text exactly as before; the text colours join the palette only when a
picture carries text (numbers, labels, title, caption).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

from .params import SpecError

RGB = tuple[int, int, int]


def hex_rgb(text: str) -> RGB:
    """'#268bd2' or '268bd2' or '#28d' -> (38, 139, 210)."""
    h = text.strip().lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    if len(h) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in h):
        raise ValueError(f"colour: got {text!r}; expected #rrggbb or #rgb")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


TEXT_FIELDS = ("text", "text_light", "text_inverse")


@dataclass(frozen=True)
class Theme:
    """One colour per role; the classic preset matches the reference GIFs."""

    background: RGB = (255, 255, 255)
    input: RGB = (0x26, 0x8B, 0xD2)
    input_hl: RGB = (0x1A, 0x69, 0x98)
    padding_hl: RGB = (0x9C, 0xAF, 0xB3)
    output: RGB = (0x2A, 0xA1, 0x98)
    output_hl: RGB = (0x1C, 0x76, 0x76)
    output_empty: RGB = (0xEE, 0xF6, 0xF5)
    line: RGB = (0x02, 0x2B, 0x35)
    connector: RGB = (0x20, 0x20, 0x20)
    crop: RGB = (0xB4, 0xC0, 0xC2)  # outlines and shading of products cropped away
    # Text: numbers, labels, captions. text_light: padding zeros; text_inverse:
    # text on fills where it has more contrast than ``text`` (chosen per fill).
    text: RGB = (0x02, 0x1F, 0x27)
    text_light: RGB = (0x7F, 0x95, 0x9A)
    text_inverse: RGB = (255, 255, 255)
    # The background is left transparent; ``background`` is then the matte, the colour
    # anti-aliased edges are blended with (that of the page the picture will sit on).
    transparent: bool = False

    def colours(self) -> list[RGB]:
        """Every distinct shape colour of the theme (no text colours), in field order."""
        return _distinct(getattr(self, f.name) for f in fields(self)
                         if f.name not in TEXT_FIELDS and f.name != "transparent")

    def with_transparent(self, matte: RGB = (255, 255, 255)) -> "Theme":
        """The theme with a transparent background, edges blended against ``matte``.

        The matte is moved off every other colour of the theme by the least step, so
        that only the background maps to its palette index: white text on a white
        matte must not turn transparent.
        """
        others = [getattr(self, f.name) for f in fields(self)
                  if f.name not in ("background", "transparent")]
        bg = tuple(matte)
        for step in range(1, 256):
            if bg not in others:
                break
            r, g, b = matte
            bg = (r - step if r >= step else r + step, g, b)
        return replace(self, background=bg, transparent=True)

    def text_colours(self) -> list[RGB]:
        """The text colours that are not already shape colours."""
        shape = self.colours()
        return [c for c in _distinct(getattr(self, n) for n in TEXT_FIELDS) if c not in shape]

    def with_colours(self, **roles: RGB) -> "Theme":
        return replace(self, **roles)


def _distinct(colours) -> list[RGB]:
    seen: list[RGB] = []
    for c in colours:
        if c not in seen:
            seen.append(c)
    return seen


CLASSIC = Theme()

LIGHT = Theme(
    background=(255, 255, 255), input=(0xA9, 0xD3, 0xF2), input_hl=(0x5C, 0xA8, 0xE0),
    padding_hl=(0xD5, 0xDD, 0xE0), output=(0xA8, 0xE2, 0xDB), output_hl=(0x4F, 0xB8, 0xAC),
    output_empty=(0xF4, 0xFB, 0xFA), line=(0x4A, 0x5C, 0x66), connector=(0x6A, 0x7A, 0x82),
    crop=(0xD0, 0xD8, 0xDA), text=(0x1B, 0x2A, 0x33), text_light=(0x9A, 0xA8, 0xAE),
    text_inverse=(255, 255, 255),
)

DARK = Theme(
    background=(0x1B, 0x1F, 0x27), input=(0x2B, 0x6C, 0xB0), input_hl=(0x5A, 0x9F, 0xE6),
    padding_hl=(0x4A, 0x55, 0x63), output=(0x1F, 0x85, 0x7B), output_hl=(0x3F, 0xC1, 0xB0),
    output_empty=(0x26, 0x2D, 0x36), line=(0xC8, 0xD3, 0xDC), connector=(0xE0, 0xE6, 0xEA),
    crop=(0x55, 0x60, 0x6B), text=(0xF2, 0xF5, 0xF7), text_light=(0x8A, 0x96, 0xA3),
    text_inverse=(0x10, 0x14, 0x1A),
)

# Greyscale-safe: every shape role has its own lightness (25 apart on 0..255),
# padding is told apart by dashed edges and cropped products by faint dashes;
# it reads the same printed in black and white.
PRINT = Theme(
    background=(255, 255, 255), output_empty=(230, 230, 230), input=(205, 205, 205),
    output=(180, 180, 180), crop=(160, 160, 160), padding_hl=(140, 140, 140),
    input_hl=(115, 115, 115), output_hl=(85, 85, 85), connector=(55, 55, 55),
    line=(25, 25, 25), text=(0, 0, 0), text_light=(96, 96, 96), text_inverse=(255, 255, 255),
)

THEMES = {"classic": CLASSIC, "light": LIGHT, "dark": DARK, "print": PRINT}

# User-facing roles (--color ROLE=#hex) and the Theme fields each one sets.
ROLES: dict[str, tuple[str, ...]] = {
    "input": ("input",),
    "output": ("output",),
    "padding": ("padding_hl",),
    "kernel": ("input_hl",),
    "highlight": ("output_hl",),
    "background": ("background",),
    "line": ("line", "connector"),
    "text": ("text",),
}


def theme_named(name: str | Theme, colours: dict[str, str] | None = None) -> Theme:
    """A preset by name (or a Theme as is) with ``--color ROLE=#hex`` overrides applied;
    ``background=none`` makes the background transparent (on a white matte).

    Raises SpecError naming the bad theme, role or colour and what is allowed.
    """
    if isinstance(name, Theme):
        theme = name
    else:
        key = str(name).strip().lower()
        if key not in THEMES:
            raise SpecError(f"theme: got {name!r}; allowed: {', '.join(THEMES)}")
        theme = THEMES[key]
    changes: dict[str, RGB] = {}
    transparent = False
    for role, value in (colours or {}).items():
        if role == "background" and value.strip().lower() in ("none", "transparent"):
            transparent = True
            continue
        if role not in ROLES:
            raise SpecError(f"color: unknown role {role!r}; allowed roles: {', '.join(ROLES)}")
        try:
            rgb = hex_rgb(value)
        except ValueError:
            raise SpecError(
                f"color: {role}={value!r} is not a colour; expected #rrggbb or #rgb"
                + (" (or none: transparent)" if role == "background" else "")
            ) from None
        for field in ROLES[role]:
            changes[field] = rgb
    theme = theme.with_colours(**changes) if changes else theme
    return theme.with_transparent() if transparent else theme


def parse_colour_args(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """['input=#268bd2', ...] -> {'input': '#268bd2'}; SpecError when an item has no '='."""
    out: dict[str, str] = {}
    for item in items:
        role, sep, value = item.partition("=")
        if not sep:
            raise SpecError(
                f"color: got {item!r}; expected ROLE=#hex with ROLE one of {', '.join(ROLES)}"
            )
        out[role.strip().lower()] = value.strip()
    return out
