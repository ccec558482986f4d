"""An uploaded image made into the renditions readers get: a few widths of JPEG, turned
upright, without the upload's metadata (EXIF: a camera's serial, a place), and each
no wider than the original.

Pillow reads only the formats named here, refuses images larger than
``MAX_PIXELS`` before decoding them (a small file can claim a huge canvas), and an
upload it cannot read is an ``ImageRefused`` the form shows next to its field.
"""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: The widths made, in pixels: a phone, a laptop column, a wide screen.
WIDTHS = (480, 960, 1600)
#: What an upload may be.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
#: The largest canvas read: 40 megapixels (a 7,700 × 5,200 photograph).
MAX_PIXELS = 40_000_000
JPEG_QUALITY = 82


class ImageRefused(ValueError):
    """The upload is no image Pulse can use; the message says why, for the editor."""


@dataclass(frozen=True)
class Rendition:
    width: int
    height: int
    data: bytes


def renditions(data: bytes) -> tuple[str, list[Rendition]]:
    """(a name from the content, the renditions, narrowest first)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height > MAX_PIXELS:
                raise ImageRefused("is too large: at most 40 megapixels")
            image.load()
    except ImageRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageRefused("is too large: at most 40 megapixels") from exc
    except UnidentifiedImageError as exc:
        raise ImageRefused("must be a JPEG, PNG, WebP or GIF image") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or malformed data
        raise ImageRefused("could not be read: is the file complete?") from exc
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "L"):
        background = Image.new("RGB", upright.size, (255, 255, 255))
        rgba = upright.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        upright = background
    else:
        upright = upright.convert("RGB")
    widths = [w for w in WIDTHS if w < upright.width] + [min(upright.width, WIDTHS[-1])]
    made: list[Rendition] = []
    for width in sorted(set(widths)):
        height = max(1, round(upright.height * width / upright.width))
        resized = (
            upright
            if width == upright.width
            else upright.resize((width, height), Image.Resampling.LANCZOS)
        )
        out = io.BytesIO()
        resized.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
        made.append(Rendition(width, height, out.getvalue()))
    name = hashlib.sha256(data).hexdigest()[:20]
    return name, made
