"""Image files: verifying uploads with Pillow, and renditions generated once, cached on disk.

Originals live in ``<ALLY_MEDIA_DIR>/original_images/``; renditions in
``<ALLY_MEDIA_DIR>/renditions/<image id>/<spec>.<ext>``. A rendition is made the first time
its URL is asked for and then served from disk, so on several hosts the media directory
must be shared storage (see the README's operations section).
"""

import io
import os
import re
import tempfile
import uuid
import warnings
from pathlib import Path

from flask import current_app
from flask import url_for

from ally.models import Image

FORMATS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}
SAVE_FORMATS = {"jpg": "JPEG", "png": "PNG", "webp": "WEBP"}
MAX_PIXELS = 40_000_000
# Only these renditions exist, so a URL cannot ask the server to resize to any size.
SPECS = frozenset(
    {
        "width-400",
        "width-800",
        "width-1200",
        "width-1600",
        "fill-400x300",
        "fill-800x600",
        "fill-1200x630",
        "fill-160x160",
    }
)
_SPEC_RE = re.compile(r"^(width)-(\d+)$|^(fill)-(\d+)x(\d+)$")


class ImageError(ValueError):
    """An upload that is not an acceptable image; the message is for the author."""


def media_dir() -> Path:
    return Path(current_app.config["ALLY_MEDIA_DIR"])


def read_upload(stream, filename: str = "") -> tuple[bytes, str, int, int]:
    """Read and verify an upload; returns ``(data, extension, width, height)``.

    Pillow decides what the file is, never its name: SVG (which can carry scripts),
    renamed documents, truncated and oversized files are refused.
    """
    limit = current_app.config["ALLY_IMAGE_MAX_BYTES"]
    data = stream.read(limit + 1)
    if len(data) > limit:
        size = f"{limit / 2**20:g} MB" if limit >= 2**20 else f"{limit // 1024} KB"
        raise ImageError(f"The file is larger than {size}.")
    if filename.lower().endswith((".svg", ".svgz")) or data.lstrip()[:5].lower() in (
        b"<?xml",
        b"<svg",
    ):
        raise ImageError("SVG images are not accepted; upload a JPEG, PNG, GIF or WebP.")
    from PIL import Image as PILImage  # Pillow loads when an image is uploaded or resized
    from PIL import UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as probe:
                fmt, (width, height) = probe.format, probe.size
                probe.verify()
            with PILImage.open(io.BytesIO(data)) as full:
                full.load()  # verify() skips pixel data; a truncated file fails here
    except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError):
        raise ImageError("The image has too many pixels.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageError("This file is not an image Pillow can read (or it is damaged).") from None
    if fmt not in FORMATS:
        raise ImageError(f"{fmt} images are not accepted; upload a JPEG, PNG, GIF or WebP.")
    if width * height > MAX_PIXELS:
        raise ImageError("The image has too many pixels.")
    return data, FORMATS[fmt], width, height


def store_original(data: bytes, extension: str) -> str:
    """Write an upload under a random name; returns the name relative to the media dir."""
    name = f"original_images/{uuid.uuid4().hex}.{extension}"
    _atomic_write(media_dir() / name, data)
    return name


def parse_spec(spec: str) -> tuple[str, int, int | None]:
    match = _SPEC_RE.match(spec) if spec in SPECS else None
    if match is None:
        raise ImageError(f"Unknown rendition {spec!r}.")
    if match.group(1):
        return "width", int(match.group(2)), None
    return "fill", int(match.group(4)), int(match.group(5))


def rendition_file(image: Image, spec: str, extension: str) -> Path:
    """The rendition's path, generating it on first use (atomically, so workers can race)."""
    if extension not in SAVE_FORMATS:
        raise ImageError(f"Unknown rendition format {extension!r}.")
    kind, width, height = parse_spec(spec)
    path = media_dir() / "renditions" / str(image.id) / f"{spec}.{extension}"
    if path.exists():
        return path
    from PIL import Image as PILImage
    from PIL import ImageOps

    with PILImage.open(media_dir() / image.filename) as original:
        picture = ImageOps.exif_transpose(original)
        if kind == "fill":
            picture = ImageOps.fit(picture, (width, height), PILImage.Resampling.LANCZOS)
        elif picture.width > width:
            ratio = width / picture.width
            picture = picture.resize(
                (width, max(1, round(picture.height * ratio))), PILImage.Resampling.LANCZOS
            )
        if extension == "jpg" or picture.mode not in ("RGB", "RGBA"):
            picture = picture.convert("RGB" if extension == "jpg" else "RGBA")
        buffer = io.BytesIO()
        picture.save(buffer, SAVE_FORMATS[extension], quality=82)
    _atomic_write(path, buffer.getvalue())
    return path


def rendition_size(image: Image, spec: str) -> tuple[int, int]:
    """The rendition's pixel size, computed without opening any file (for width/height)."""
    kind, width, height = parse_spec(spec)
    if kind == "fill":
        return width, height
    if image.width <= width:
        return image.width, image.height
    return width, max(1, round(image.height * width / image.width))


def rendition_url(image: Image, spec: str, extension: str = "webp") -> str:
    return url_for("site.media", filename=f"renditions/{image.id}/{spec}.{extension}")


def delete_files(image: Image) -> None:
    (media_dir() / image.filename).unlink(missing_ok=True)
    folder = media_dir() / "renditions" / str(image.id)
    if folder.is_dir():
        for file in folder.iterdir():
            file.unlink(missing_ok=True)
        folder.rmdir()


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temp, path)
