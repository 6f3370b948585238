"""The poster pages show: a WebP, smaller than the video, made from its JPEG poster with Pillow.

The JPEG (`poster.jpg`, the video's own size) stays: the share card is drawn from it, and link-preview
crawlers want JPEG (og:image falls back to it). Pages and the API show `poster.webp`, which every browser
the app serves decodes (WeChat's in-app browser, iOS 14+ WKWebView, Android WebView, desktop Chrome,
Safari and Firefox). A poster only stands in for the video's first frame until it plays: at most
PAGE_POSTER_SIDE pixels on its long side, half 1080p. Measured on the demo posters (360×640): 17 KB as
JPEG at quality 85, 5.8 KB as this WebP; a photograph at 540×960, 114 KB and 52 KB.
"""

from pathlib import Path

from PIL import Image, ImageOps

PAGE_POSTER_SIDE = 960
WEBP_QUALITY = 75


def write_page_poster(poster_path: Path, page_poster_path: Path) -> None:
    """Write the WebP pages show (never larger than the poster) from the JPEG `poster_path`."""
    with Image.open(poster_path) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((PAGE_POSTER_SIDE, PAGE_POSTER_SIDE), Image.Resampling.LANCZOS)
    # method 6: the slowest, smallest encoding; about 0.1 s for a 540×960 poster, once per video.
    image.save(page_poster_path, format="WEBP", quality=WEBP_QUALITY, method=6)
