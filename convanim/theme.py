"""Colours of the picture, by role."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

RGB = tuple[int, int, int]


def hex_rgb(text: str) -> RGB:
    """'#268bd2' or '268bd2' or '#28d' -> (38, 139, 210)."""
    h = text.strip().lstrip("#")
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    if len(h) != 6 or any(ch not in "0123456789abcdefABCDEF" for ch in h):
        raise ValueError(f"colour: got {text!r}; expected #rrggbb or #rgb")
    return (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16))


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

    def colours(self) -> list[RGB]:
        """Every distinct colour of the theme, in field order."""
        seen: list[RGB] = []
        for f in fields(self):
            c = getattr(self, f.name)
            if c not in seen:
                seen.append(c)
        return seen

    def with_colours(self, **roles: RGB) -> "Theme":
        return replace(self, **roles)


CLASSIC = Theme()
THEMES = {"classic": CLASSIC}
