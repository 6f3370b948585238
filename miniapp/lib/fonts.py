"""Fonts for the images the server draws with Pillow (the share poster), Chinese first.

Pillow draws only with a font file it is given, and a Chinese title needs one with CJK glyphs.
No such font comes with Python or Pillow, and none small enough comes from PyPI (a Simplified
Chinese font is 10 MB and more; the packages that ship one are unmaintained copies), so none is
installed with the app and none is committed: the machine provides it.

Where it is looked for, in order:
1. Known paths: Noto Sans CJK as Debian and Ubuntu (`fonts-noto-cjk`, what CI installs), Fedora
   and Arch install it, WenQuanYi Zen Hei, then macOS's and Windows's own Chinese fonts.
2. `fc-match` (fontconfig), where it is installed, asked for a sans-serif font for zh-cn.
A candidate is used only if it draws 中 as a glyph (not its "no such glyph" box).

With none found (a fresh machine with only Python: `apt-get install fonts-noto-cjk`, or your
system's Chinese font, fixes it), the poster is still drawn with a Latin font (fontconfig's
sans-serif, else the one bundled with Pillow), and `drawable` leaves out every character that
font has no glyph for: a Chinese title is then missing, never a row of boxes. The QR code,
the cover and the avatar need no font. The same filter drops characters the CJK font lacks
too (emoji, scripts Noto Sans CJK does not cover) rather than drawing boxes.
"""

import functools
import logging
import shutil
import subprocess
from dataclasses import dataclass

from PIL import ImageFont

logger = logging.getLogger(__name__)

# (path, index in a collection) for regular and bold; Noto Sans CJK's collections hold
# JP, KR, SC, TC and HK in that order: 2 is Simplified Chinese.
_NOTO_DIRS = ["/usr/share/fonts/opentype/noto", "/usr/share/fonts/google-noto-cjk", "/usr/share/fonts/noto-cjk"]
KNOWN_CJK = [
    *(((f"{d}/NotoSansCJK-Regular.ttc", 2), (f"{d}/NotoSansCJK-Bold.ttc", 2)) for d in _NOTO_DIRS),
    (("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0), None),
    (("/System/Library/Fonts/Hiragino Sans GB.ttc", 0), ("/System/Library/Fonts/Hiragino Sans GB.ttc", 1)),
    (("/System/Library/Fonts/PingFang.ttc", 0), None),
    (("C:/Windows/Fonts/msyh.ttc", 0), ("C:/Windows/Fonts/msyhbd.ttc", 0)),
]

# A character no font has: what a font draws for it is its "no such glyph" box.
_NO_SUCH_CHARACTER = "\U0010fffd"


@dataclass(frozen=True)
class Face:
    path: str
    index: int = 0


def _loads(face: Face, *, cjk: bool) -> bool:
    try:
        font = ImageFont.truetype(face.path, 24, index=face.index)
    except OSError:
        return False
    return not cjk or _has_glyph(font, "中")


def _fc_match(pattern: str) -> Face | None:
    command = shutil.which("fc-match")
    if command is None:
        return None
    try:
        # The pattern is one of this module's own, never a request's.
        found = subprocess.run(  # noqa: S603
            [command, "--format=%{file}|%{index}", pattern], capture_output=True, text=True, timeout=5, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, index = found.partition("|")
    return Face(path, int(index)) if path and index.isdigit() else None


@functools.cache
def face(*, bold: bool = False) -> Face | None:
    """The CJK font to draw with (its bold, where there is one), or None: see the module's doc."""
    for regular, heavy in KNOWN_CJK:
        for candidate in ([heavy] if bold and heavy else []) + [regular]:
            if _loads(Face(*candidate), cjk=True):
                return Face(*candidate)
    weight = ":weight=bold" if bold else ""
    found = _fc_match(f"sans-serif:lang=zh-cn{weight}")
    if found is not None and _loads(found, cjk=True):
        return found
    logger.warning("No font with Chinese glyphs found: images are drawn without Chinese text (see miniapp.lib.fonts)")
    return None


@functools.cache
def font(size: int, *, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A font of `size` pixels: the CJK face, else a Latin one (see the module's doc)."""
    found = face(bold=bold)
    if found is None:
        found = _fc_match("sans-serif:weight=bold" if bold else "sans-serif")
        found = found if found is not None and _loads(found, cjk=False) else None
    if found is None:
        return ImageFont.load_default(size)
    return ImageFont.truetype(found.path, size, index=found.index)


@functools.lru_cache(maxsize=8192)
def _has_glyph(font: ImageFont.FreeTypeFont, character: str) -> bool:
    if character.isspace():
        return True
    mask, missing = font.getmask(character), font.getmask(_NO_SUCH_CHARACTER)
    return (mask.size, bytes(mask)) != (missing.size, bytes(missing))


def drawable(font: ImageFont.FreeTypeFont, text: str) -> str:
    """`text` without the characters `font` has no glyph for (drawn, they would be boxes)."""
    return "".join(character for character in text if _has_glyph(font, character))
