"""A video's share poster: one image to save and post where links are not allowed (WeChat
Moments, another app), drawn with Pillow: the cover, the title, who shares it and their note,
and the QR code of the link.

750×1334, the size WeChat's own mini-program posters are drawn at (a 9:16 phone screen at 2×),
as a JPEG (quality 90, no chroma subsampling): with a photograph for a cover it is about a
third of a PNG's bytes (160 KB against 500 KB; the demo's flat covers, 117 against 261 KB), and
the QR code's modules, several pixels each, stay sharp enough for WeChat to recognise them
from the saved image (and for zxing-cpp in the tests).

Text is drawn in the active language with `miniapp.lib.fonts` (which says what happens on a
machine without a Chinese font). Nothing is fetched over the network: the cover is the video's
own poster file, and an avatar is drawn from this site's media storage when it is there and an
image; any other avatar (a provider's, an SVG) is a disc with the name's first letter.
"""

import hashlib
import io
import json
import logging
import re
from dataclasses import dataclass

import segno
from django.conf import settings
from django.core.files.storage import default_storage
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from miniapp.engagement.models import ShareLink
from miniapp.lib.fonts import drawable, font
from miniapp.videos.models import Video
from miniapp.videos.share_card import play_button

logger = logging.getLogger(__name__)

SIZE = (750, 1334)
# Changed with the drawing, so that caches holding the old one revalidate to a new ETag.
VERSION = 1
# An avatar on our media larger than this is not opened (an image bomb).
AVATAR_MAX_BYTES = 2 * 1024 * 1024

INK, GREY, GREEN, WHITE = (25, 25, 25), (128, 128, 128), (7, 193, 96), (255, 255, 255)
MARGIN, PAD = 32, 32
LEFT, RIGHT = MARGIN + PAD, SIZE[0] - MARGIN - PAD
WIDTH = RIGHT - LEFT
# Closing punctuation, which Chinese typesetting never puts at the start of a line.
NO_LINE_START = set("，。、；：！？）】》」』〉”’…,.;:!?)]}%")
RULE = 1060  # the dashed line between the video and the QR code


@dataclass(frozen=True)
class Sharer:
    name: str
    note: str
    avatar: Image.Image | None  # None: a letter disc


def poster_etag(*, video: Video, share: ShareLink | None, url: str) -> str:
    """Everything the image depends on, hashed: a cache revalidates without a drawing."""
    who = [share.sharer.name, share.sharer.avatar_url, share.note] if share is not None else None
    parts = [VERSION, video.pk, video.title, video.poster.name, video.author.name, url, who, get_language()]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()[:32]


def poster_jpeg(*, video: Video, share: ShareLink | None, url: str) -> bytes:
    """The poster of `video` for the link `url` (made from `share`, if any), as JPEG bytes.

    Blocking work (storage and Pillow): call it from a sync view.
    """
    sharer = None
    if share is not None:
        user = share.sharer
        sharer = Sharer(name=user.name, note=share.note, avatar=_media_image(user.avatar_url))
    image = draw(cover=_cover(video), title=video.title, author=video.author.name, url=url, sharer=sharer)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90, subsampling=0, optimize=True)
    return out.getvalue()


def draw(*, cover: Image.Image | None, title: str, author: str, url: str, sharer: Sharer | None) -> Image.Image:
    """The poster as an RGB image of SIZE. Texts are translated in the active language."""
    poster = _background(cover)
    card = Image.new("L", SIZE, 0)
    ImageDraw.Draw(card).rounded_rectangle((MARGIN, MARGIN, SIZE[0] - MARGIN, SIZE[1] - MARGIN), 24, fill=255)
    poster.paste(WHITE, (0, 0, *SIZE), _smooth(card))
    pen = ImageDraw.Draw(poster)

    # From the top: who shares it; from the bottom: the QR code, a rule, the title (one line
    # or two); the cover takes what is left between them.
    header_bottom = _header(poster, pen, sharer)
    title_font = font(36, bold=True)
    titles = _lines(title, title_font, WIDTH, max_lines=2)
    title_top = RULE - 24 - len(titles) * 52
    for n, line in enumerate(titles):
        pen.text((LEFT, title_top + n * 52), line, font=title_font, fill=INK)
    _cover_in(poster, cover, (LEFT, header_bottom + 24, RIGHT, title_top - 20), author)
    for x in range(LEFT, RIGHT, 16):  # a dashed rule, as a ticket's tear-off line
        pen.line((x, RULE, x + 8, RULE), fill=(220, 220, 220), width=2)
    _footer(poster, pen, url, brand=sharer is not None)
    return poster


def _background(cover: Image.Image | None) -> Image.Image:
    """The cover blurred and darkened behind the card (WeChat green without one)."""
    if cover is None:
        return Image.new("RGB", SIZE, (42, 110, 76))
    small = ImageOps.fit(cover, (SIZE[0] // 8, SIZE[1] // 8), Image.Resampling.BILINEAR)
    small = ImageEnhance.Brightness(small.filter(ImageFilter.GaussianBlur(6))).enhance(0.6)
    return small.resize(SIZE, Image.Resampling.BICUBIC)


def _header(poster: Image.Image, pen: ImageDraw.ImageDraw, sharer: Sharer | None) -> int:
    """Who shares it (avatar, name, the note in a bubble), or the product's name and what it
    is; returns the header's bottom."""
    top, size = MARGIN + PAD, 88
    x = LEFT + size + 20
    name_font = font(30, bold=True)
    if sharer is None:
        icon = _app_icon(size)
        poster.paste(icon, (LEFT, top), icon)
        name, line_font = _("miniapp"), font(26)
        pen.text(
            (x, top + 50), _first_line(_("Watch, like and share"), line_font, RIGHT - x), font=line_font, fill=GREY
        )
    else:
        face = _round(sharer.avatar, size) if sharer.avatar is not None else _letter_disc(sharer.name, size)
        poster.paste(face, (LEFT, top), face)
        name, line_font = sharer.name, font(26)
        notes = _lines(sharer.note, line_font, RIGHT - x - 32, max_lines=2)
        if notes:  # a bubble, as a chat shows what someone said (quote marks of a CJK font are full width)
            bottom = top + 48 + 20 + len(notes) * 38
            width = max(line_font.getlength(line) for line in notes) + 32
            pen.rounded_rectangle((x, top + 48, x + width, bottom), 12, fill=(242, 242, 242))
            for n, line in enumerate(notes):
                pen.text((x + 16, top + 48 + 8 + n * 38), line, font=line_font, fill=INK)
            pen.text((x, top + 4), _first_line(name, name_font, RIGHT - x), font=name_font, fill=INK)
            return max(top + size, bottom)
        shared = _("shared a video with you")
        pen.text((x, top + 50), _first_line(shared, line_font, RIGHT - x), font=line_font, fill=GREY)
    pen.text((x, top + 4), _first_line(name, name_font, RIGHT - x), font=name_font, fill=INK)
    return top + size


def _first_line(text: str, face, width: int) -> str:
    return next(iter(_lines(text, face, width, max_lines=1)), "")


def _cover_in(poster: Image.Image, cover: Image.Image | None, box: tuple[int, int, int, int], author: str) -> None:
    """The cover cropped to `box` with rounded corners, a play button and the author."""
    width, height = box[2] - box[0], box[3] - box[1]
    if cover is None:
        shown = Image.new("RGB", (width, height), (40, 40, 40))
    else:
        shown = ImageOps.fit(cover, (width, height), Image.Resampling.LANCZOS, centering=(0.5, 0.4))
    shade = Image.new("L", (1, 64))  # darker towards the bottom, where the author's name is
    shade.putdata([int(150 * (i / 63) ** 2) for i in range(64)])
    shade = shade.resize((width, height // 3))
    shown.paste((0, 0, 0), (0, height - shade.height, width, height), shade)
    button = play_button(112)
    shown.paste(button, ((width - 112) // 2, (height - 112) // 2), button)
    by = font(26)
    ImageDraw.Draw(shown).text((24, height - 56), drawable(by, f"@{author}"), font=by, fill=WHITE)
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, width - 1, height - 1), 16, fill=255)
    poster.paste(shown, box[:2], mask)


def _footer(poster: Image.Image, pen: ImageDraw.ImageDraw, url: str, *, brand: bool) -> None:
    """The QR code of `url` on the right; how to open it on the left, under the product's name
    when the header did not show it already (`brand`)."""
    top, bottom = RULE + 20, SIZE[1] - MARGIN - PAD + 8
    qr = _qr(url, bottom - top)
    poster.paste(qr, (RIGHT - qr.width, top + (bottom - top - qr.height) // 2))
    text_width = RIGHT - qr.width - 16 - LEFT
    hint = font(26 if brand else 30)
    hints = _lines(_("Scan the QR code to watch"), hint, text_width, max_lines=2)
    if brand:
        icon = _app_icon(48)
        poster.paste(icon, (LEFT, top + 24), icon)
        name = font(32, bold=True)
        pen.text((LEFT + 64, top + 24), drawable(name, _("miniapp")), font=name, fill=INK)
        y, colour = top + 100, GREY
    else:
        y, colour = (top + bottom) // 2 - len(hints) * 22, INK
    for n, line in enumerate(hints):
        pen.text((LEFT, y + n * 42), line, font=hint, fill=colour)


def _qr(url: str, most: int) -> Image.Image:
    """`url` as share_qr encodes it, whole pixels a module, at most `most` pixels wide."""
    code = segno.make(url, error="m")
    scale = max(2, most // code.symbol_size(scale=1, border=2)[0])
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=2, dark="#111111", light="#ffffff")
    out.seek(0)
    return Image.open(out).convert("RGB")


def _lines(text: str, face, width: int, *, max_lines: int) -> list[str]:
    """`text` on at most `max_lines` lines of `width` pixels, the last ending in … if cut.

    Whitespace runs are one space. Latin words break at spaces (and inside a word longer
    than a line), CJK between any two characters, except before closing punctuation (，。！
    and the like never start a line: the character before goes down with it).
    """
    text = " ".join(drawable(face, text).split())
    lines: list[str] = []
    line = ""
    for token in re.findall(r"[^\W_\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]+[\s]*|\s+|.", text):
        if face.getlength(line + token.rstrip()) <= width:
            line += token
            continue
        carried = ""
        if token[0] in NO_LINE_START and len(line.rstrip()) > 1 and line.rstrip()[-1] >= "\u2e80":
            line, carried = line.rstrip()[:-1], line.rstrip()[-1]
        if line.strip():
            lines.append(line.rstrip())
        line = carried
        for character in token.lstrip():  # a word wider than a line is broken anywhere
            if line and face.getlength(line + character) > width:
                lines.append(line)
                line = ""
            line += character
    if line.strip():
        lines.append(line.rstrip())
    if len(lines) <= max_lines:
        return lines
    last = lines[max_lines - 1]
    while last and face.getlength(last + "…") > width:
        last = last[:-1]
    return [*lines[: max_lines - 1], last.rstrip() + "…"]


def _smooth(mask: Image.Image) -> Image.Image:
    """A hard-edged mask's edges softened by a pixel, since ImageDraw does not smooth them."""
    return mask.filter(ImageFilter.GaussianBlur(0.6))


def _round(image: Image.Image, size: int) -> Image.Image:
    """`image` cropped to a disc of `size`, as RGBA."""
    face = ImageOps.fit(image.convert("RGB"), (size, size), Image.Resampling.LANCZOS).convert("RGBA")
    face.putalpha(_disc_mask(size))
    return face


def _disc_mask(size: int) -> Image.Image:
    big = Image.new("L", (size * 4, size * 4), 0)
    ImageDraw.Draw(big).ellipse((0, 0, size * 4 - 1, size * 4 - 1), fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def _letter_disc(name: str, size: int) -> Image.Image:
    """The name's first letter on a disc coloured by the name, as the mock provider draws avatars."""
    hue = int(hashlib.sha256(name.encode()).hexdigest()[:4], 16) % 360
    disc = Image.new("RGBA", (size, size), f"hsl({hue},55%,52%)")
    disc.putalpha(_disc_mask(size))
    letter_font = font(size * 46 // 100)
    letter = drawable(letter_font, name.strip()[:1].upper())
    if letter:
        ImageDraw.Draw(disc).text((size / 2, size / 2), letter, font=letter_font, fill=WHITE, anchor="mm")
    return disc


def _app_icon(size: int) -> Image.Image:
    """static/miniapp/icon.svg: a green rounded square with a white play triangle."""
    big = size * 4
    icon = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    pen = ImageDraw.Draw(icon)
    pen.rounded_rectangle((0, 0, big - 1, big - 1), big * 14 // 64, fill=GREEN)
    scale = big / 64
    pen.polygon([(26 * scale, 20 * scale), (46 * scale, 32 * scale), (26 * scale, 44 * scale)], fill=WHITE)
    return icon.resize((size, size), Image.Resampling.LANCZOS)


def _cover(video: Video) -> Image.Image | None:
    """The video's poster frame, or None when its file is missing or unreadable."""
    if not video.poster:
        return None
    try:
        with default_storage.open(video.poster.name, "rb") as handle, Image.open(handle) as opened:
            opened.draft("RGB", (SIZE[0], SIZE[1]))  # a JPEG decodes at a smaller scale: faster
            return ImageOps.exif_transpose(opened).convert("RGB")
    except Exception:
        logger.warning("No cover for the poster of video %s", video.pk, exc_info=True)
        return None


def _media_image(url: str) -> Image.Image | None:
    """The image at `url` if it is a file of this site's media storage (read from the
    storage, never over the network: anything else could make the server fetch any URL)."""
    site_media = settings.SITE_URL + settings.MEDIA_URL
    for prefix in (site_media, settings.MEDIA_URL):
        if url.startswith(prefix) and "://" not in url[len(prefix) :]:
            name = url[len(prefix) :].split("?", 1)[0]
            break
    else:
        return None
    if not name or ".." in name.split("/"):
        return None
    try:
        if default_storage.size(name) > AVATAR_MAX_BYTES:
            return None
        with default_storage.open(name, "rb") as handle, Image.open(handle) as opened:
            if opened.width * opened.height > 4096 * 4096:
                return None
            return ImageOps.exif_transpose(opened).convert("RGB")
    except Exception:  # not there, not an image (an SVG): a letter disc instead
        return None
