"""Small, real demo videos for `seed_demo`, drawn with numpy and Pillow and encoded with PyAV.

Each clip is a vertical gradient in its own hue, a shape bouncing around and the title, with a
sine tone at its own pitch, so the feed shows visibly and audibly different videos without any
binary files in the repository. Everything is derived from `index`, so a clip is the same on every run.
"""

import colorsys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

DEMO_CLIPS: list[dict] = [
    {"title": "老王收麦子", "description": "六月的麦田，老王一早就下地了。", "seconds": 6.0},
    {"title": "小猫晒太阳", "description": "阳台上的橘猫，一睡就是一下午。", "seconds": 4.0},
    {"title": "外婆包饺子", "description": "韭菜鸡蛋馅，外婆的拿手好戏。", "seconds": 7.0},
    {"title": "雨后的彩虹", "description": "下班路上抬头，刚好看见。", "seconds": 5.0},
    {"title": "周末去爬山", "description": "山顶的风很大，风景很好。", "seconds": 8.0},
    {"title": "广场舞大赛", "description": "小区第一届广场舞比赛，张阿姨队夺冠！", "seconds": 5.5},
]

# Noto Sans CJK ships as a collection; index 2 is the Simplified Chinese face (JP, KR, SC, TC, HK).
_CJK_FONTS = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc", 2),  # Debian/Ubuntu fonts-noto-cjk
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Bold.ttc", 2),  # Arch
    ("/usr/share/fonts/google-noto-cjk/NotoSansCJK-Bold.ttc", 2),  # Fedora
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/System/Library/Fonts/PingFang.ttc", 0),  # macOS
]
_SAMPLE_RATE = 44100
_AUDIO_CHUNK = 1024


def _cjk_font(size: int) -> ImageFont.FreeTypeFont | None:
    for path, index in _CJK_FONTS:
        try:
            return ImageFont.truetype(path, size, index=index)
        except OSError:
            continue
    return None


def _fitted_font(text: str, *, max_width: int, size: int, cjk: bool) -> ImageFont.FreeTypeFont:
    """The largest font, at most `size`, in which `text` fits in `max_width` pixels."""
    while True:
        font = _cjk_font(size) if cjk else ImageFont.load_default(size=size)
        if font is None or size <= 16 or font.getlength(text) <= max_width:
            return font
        size -= 4


def _colour(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def _background(*, index: int, width: int, height: int) -> Image.Image:
    """A vertical gradient; golden-ratio steps spread the hues of consecutive clips far apart."""
    hue = 0.05 + index * 0.618034
    top = np.array(_colour(hue, 0.55, 0.95), dtype=np.float32)
    bottom = np.array(_colour(hue + 0.1, 0.85, 0.35), dtype=np.float32)
    ramp = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    pixels = (top * (1 - ramp) + bottom * ramp).astype(np.uint8)
    return Image.fromarray(np.broadcast_to(pixels, (height, width, 3)).copy(), "RGB")


def _title(*, index: int, title: str, width: int) -> Image.Image:
    """The title as a transparent strip, pasted over the moving shape so the shape never hides it."""
    # Without a CJK font a Chinese title would come out as boxes, so show a plain label instead.
    cjk = _cjk_font(12) is not None
    text = title if cjk or title.isascii() else f"Clip {index + 1}"
    font = _fitted_font(text, max_width=int(width * 0.86), size=max(24, width // 6), cjk=cjk)
    # Without FreeType, Pillow's default font is a small bitmap font with no `size`.
    stroke = max(2, getattr(font, "size", 0) // 16)
    left, top, right, bottom = ImageDraw.Draw(Image.new("L", (1, 1))).textbbox(
        (0, 0), text, font=font, stroke_width=stroke
    )
    strip = Image.new("RGBA", (width, bottom - top + 4), (0, 0, 0, 0))
    ImageDraw.Draw(strip).text(
        ((width - (right - left)) / 2 - left, 2 - top),
        text,
        font=font,
        fill=(255, 255, 255, 255),
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 255),
    )
    return strip


def _sprite(*, index: int, size: int) -> Image.Image:
    """A circle, square or diamond in a colour opposite the background's hue."""
    sprite = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(sprite)
    fill = (*_colour(0.55 + index * 0.618034, 0.7, 1.0), 255)
    outline = (255, 255, 255, 255)
    box = (2, 2, size - 3, size - 3)
    kind = index % 3
    if kind == 0:
        draw.ellipse(box, fill=fill, outline=outline, width=4)
    elif kind == 1:
        draw.rounded_rectangle(box, radius=size // 6, fill=fill, outline=outline, width=4)
    else:
        half = size // 2
        draw.polygon([(half, 2), (size - 3, half), (half, size - 3), (2, half)], fill=fill, outline=outline, width=4)
    return sprite


def _bounce(position: float, span: int) -> int:
    """Fold a position that keeps growing back and forth into [0, span]."""
    if span <= 0:
        return 0
    position %= 2 * span
    return int(position if position <= span else 2 * span - position)


def _tone(*, index: int, seconds: float) -> np.ndarray:
    """A mono sine tone; the pitch walks the circle of fifths so neighbouring clips differ clearly."""
    frequency = 220.0 * 2 ** (((index * 7) % 24) / 12)
    t = np.arange(int(seconds * _SAMPLE_RATE), dtype=np.float32) / _SAMPLE_RATE
    samples = 0.2 * np.sin(2 * np.pi * frequency * t)
    # Short fades avoid a click at the start and end.
    fade = min(len(t) // 2, _SAMPLE_RATE // 20)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        samples[:fade] *= ramp
        samples[-fade:] *= ramp[::-1]
    return samples.astype(np.float32)


def make_demo_clip(
    *,
    video_path: Path,
    poster_path: Path,
    index: int,
    title: str,
    seconds: float,
    width: int = 360,
    height: int = 640,
    fps: int = 24,
) -> None:
    """Write an H.264/AAC fast-start MP4 to `video_path` and a JPEG poster (the frame at 1 s) to `poster_path`.

    `index` counts from 0 and picks the colours, shape, motion and pitch. `width` and `height`
    must be even (4:2:0 video). On failure neither file is left behind.
    """
    if width % 2 or height % 2 or seconds <= 0 or fps <= 0:
        raise ValueError("width and height must be even, seconds and fps positive")
    background = _background(index=index, width=width, height=height)
    title_strip = _title(index=index, title=title, width=width)
    title_xy = (0, int(height * 0.3) - title_strip.height // 2)
    sprite = _sprite(index=index, size=width // 4)
    span_x, span_y = width - sprite.width, height - sprite.height
    speed_x, speed_y = 90 + 25 * (index % 4), 140 + 30 * (index % 3)  # pixels per second
    audio = _tone(index=index, seconds=seconds)
    frame_count = max(1, round(seconds * fps))
    poster_frame = min(fps, frame_count - 1)

    try:
        with av.open(str(video_path), "w", format="mp4", options={"movflags": "+faststart"}) as container:
            video = container.add_stream("libx264", rate=fps, options={"preset": "veryfast", "crf": "23"})
            video.width, video.height, video.pix_fmt = width, height, "yuv420p"
            video.codec_context.gop_size = fps  # a keyframe every second keeps seeking snappy
            sound = container.add_stream("aac", rate=_SAMPLE_RATE)
            sound.layout = "mono"
            sound.bit_rate = 64_000
            sent = 0
            for number in range(frame_count):
                image = background.copy()
                moved = number / fps
                xy = (_bounce(moved * speed_x + index * 37, span_x), _bounce(moved * speed_y + index * 53, span_y))
                image.paste(sprite, xy, sprite)
                image.paste(title_strip, title_xy, title_strip)
                if number == poster_frame:
                    image.save(poster_path, format="JPEG", quality=85)
                frame = av.VideoFrame.from_image(image)
                frame.pts = number
                container.mux(video.encode(frame))
                # Feed the audio alongside the video so the muxer interleaves them: a file with all
                # video first and all audio last stalls progressive playback in browsers.
                until = min(len(audio), round((number + 1) * _SAMPLE_RATE / fps))
                while sent < until:
                    chunk = audio[sent : min(sent + _AUDIO_CHUNK, until)]
                    samples = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="flt", layout="mono")
                    samples.sample_rate = _SAMPLE_RATE
                    samples.pts = sent
                    samples.time_base = Fraction(1, _SAMPLE_RATE)
                    container.mux(sound.encode(samples))
                    sent += len(chunk)
            container.mux(video.encode())
            container.mux(sound.encode())
    except BaseException:
        video_path.unlink(missing_ok=True)
        poster_path.unlink(missing_ok=True)
        raise
