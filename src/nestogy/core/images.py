"""Checking and cleaning images a tenant provides (the company logo).

An image is accepted only if Pillow, restricted to the PNG, JPEG, GIF and WebP decoders,
recognises it (SVG, which can carry scripts and external references, is refused), its
header announces a size within the pixel limits (checked before any pixel is decoded, so a
decompression bomb is refused cheaply), and it decodes. It is then re-encoded from its
pixels alone (first frame only, downscaled to at most :data:`OUTPUT_MAX_SIDE`), so no
metadata (EXIF with GPS positions, ICC profiles, comments, trailing data) survives: JPEG
stays JPEG, everything else becomes PNG.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
LABEL = "PNG, JPEG, GIF or WebP"
MAX_BYTES = 2 * 1024 * 1024
MAX_SIDE = 8000
MAX_PIXELS = 16_000_000
OUTPUT_MAX_SIDE = 1000


class ImageRefused(ValueError):
    """Not an acceptable image; the message completes "the file …"."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    width: int
    height: int


def _looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head


def clean_image(data: bytes, *, max_bytes: int = MAX_BYTES) -> CleanImage:
    """Check ``data`` and return it re-encoded without metadata; raise :class:`ImageRefused`."""
    if not data:
        raise ImageRefused("is empty")
    if len(data) > max_bytes:
        raise ImageRefused(f"is larger than {max_bytes / (1024 * 1024):g} MB")
    if _looks_like_svg(data):
        raise ImageRefused(f"is an SVG image; SVG is not accepted, use a {LABEL} image")
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            # verify() checks the file's structure (PNG: every chunk and its CRC, so a
            # truncated file is refused even though WeasyPrint makes Pillow lenient about
            # truncation process-wide); the image must then be opened again to decode it.
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as probe:
                width, height = probe.size
                if (width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE
                        or width * height > MAX_PIXELS):
                    raise ImageRefused(
                        f"is {width}×{height} pixels; at most {MAX_SIDE} per side and "
                        f"{MAX_PIXELS // 1_000_000} million pixels are accepted")
                probe.verify()
            with Image.open(io.BytesIO(data), formats=list(FORMATS)) as image:
                source_format = image.format or ""
                width, height = image.size
                if (width < 1 or height < 1 or width > MAX_SIDE or height > MAX_SIDE
                        or width * height > MAX_PIXELS):
                    raise ImageRefused(
                        f"is {width}×{height} pixels; at most {MAX_SIDE} per side and "
                        f"{MAX_PIXELS // 1_000_000} million pixels are accepted")
                image.seek(0)
                image.load()
                frame = image.copy()
        except ImageRefused:
            raise
        except UnidentifiedImageError:
            raise ImageRefused(f"is not a {LABEL} image") from None
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ImageRefused(f"has too many pixels; at most {MAX_SIDE} per side and "
                               f"{MAX_PIXELS // 1_000_000} million pixels are accepted") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError):
            raise ImageRefused(f"is a damaged {LABEL} image") from None
    if source_format not in FORMATS:
        raise ImageRefused(f"is not a {LABEL} image")
    has_alpha = frame.mode in {"RGBA", "LA", "PA"} or "transparency" in frame.info
    if source_format == "JPEG":
        frame = frame.convert("RGB")
        out_format, content_type = "JPEG", "image/jpeg"
    else:
        frame = frame.convert("RGBA" if has_alpha else "RGB")
        out_format, content_type = "PNG", "image/png"
    frame.thumbnail((OUTPUT_MAX_SIDE, OUTPUT_MAX_SIDE))
    frame.info = {}  # nothing of the original's metadata goes into the new file
    out = io.BytesIO()
    if out_format == "JPEG":
        frame.save(out, "JPEG", quality=90, optimize=True)
    else:
        frame.save(out, "PNG", optimize=True)
    return CleanImage(out.getvalue(), content_type, frame.width, frame.height)
