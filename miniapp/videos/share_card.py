"""A video's share card: the 1200×630 link preview (og:image) drawn from its poster with Pillow."""

import math
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

CARD_SIZE = (1200, 630)


def play_button(diameter: int) -> Image.Image:
    """A translucent white disc with a dark play triangle, as RGBA.

    Drawn at four times the size and scaled down, because ImageDraw doesn't smooth edges.
    No text, so no font is needed.
    """
    big = diameter * 4
    button = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(button)
    draw.ellipse((0, 0, big - 1, big - 1), fill=(255, 255, 255, 200))
    # An equilateral triangle whose centroid is the disc's centre looks centred; its box would not.
    centre, height = big / 2, big * 0.42
    width = height * math.sqrt(3) / 2
    left, right = centre - width / 3, centre + width * 2 / 3
    draw.polygon([(left, centre - height / 2), (right, centre), (left, centre + height / 2)], fill=(20, 20, 20, 230))
    return button.resize((diameter, diameter), Image.Resampling.LANCZOS)


def write_card(poster_path: Path, card_path: Path) -> None:
    """Write a CARD_SIZE JPEG link preview (og:image) made from the poster.

    Posters keep the video's shape (mostly 9:16), which link previews crop badly. The card shows the
    whole poster, fitted to the card's height (or width, for wide posters), over a blurred, darkened,
    cover-cropped copy of it, with a play button so it reads as a video.
    """
    with Image.open(poster_path) as opened:
        poster = ImageOps.exif_transpose(opened).convert("RGB")
    # Blurring a quarter-size copy and scaling it up is much cheaper and looks the same.
    small = ImageOps.fit(poster, (CARD_SIZE[0] // 4, CARD_SIZE[1] // 4), Image.Resampling.BILINEAR)
    small = ImageEnhance.Brightness(small.filter(ImageFilter.GaussianBlur(12))).enhance(0.55)
    card = small.resize(CARD_SIZE, Image.Resampling.BICUBIC)
    front = ImageOps.contain(poster, CARD_SIZE, Image.Resampling.LANCZOS)
    card.paste(front, ((CARD_SIZE[0] - front.width) // 2, (CARD_SIZE[1] - front.height) // 2))
    button = play_button(CARD_SIZE[1] // 4)
    card.paste(button, ((CARD_SIZE[0] - button.width) // 2, (CARD_SIZE[1] - button.height) // 2), button)
    card.save(card_path, format="JPEG", quality=82, progressive=True, optimize=True)
