"""QR codes in images: zxing-cpp (QR formats only) in worker threads, behind byte and pixel caps.

The event loop never decodes: `scan_image` runs `scan_file` in a small thread pool (Pillow and
zxing-cpp release the GIL while they work) with a time limit. Images that are too big (bytes or
pixels, which also stops decompression bombs), corrupt, truncated or not images are skipped with a
log line and a reason the ads handler records.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("qunbot.qrcode")
DECODE_SIDE = 2048  # larger images are scaled down first: QR codes in posters stay readable
DECODE_SECONDS = 5.0
_WORKERS = 2
_POOL: ThreadPoolExecutor | None = None
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()
_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "BMP")


# What a QR code leads to, by its content (for the audit: every one of them is an ad unless allowed)
QR_KINDS = {"group_invite": "群邀请二维码", "contact": "个人名片二维码", "payment": "收款二维码",
            "mini_program": "小程序码", "link": "链接二维码", "other": "二维码"}
_QR_PATTERNS = (
    ("group_invite", re.compile(r"^https?://(weixin\.qq\.com/g/|work\.weixin\.qq\.com/(gm|ca)/)", re.I)),
    ("contact", re.compile(r"^https?://(u\.wechat\.com/|weixin\.qq\.com/r/|work\.weixin\.qq\.com/u/"
                           r"|qm\.qq\.com/|wpa\.qq\.com/)", re.I)),
    ("payment", re.compile(r"^(wxp://|https?://(payapp\.weixin\.qq\.com|qr\.alipay\.com|"
                           r"qr\.95516\.com)/)", re.I)),
    ("mini_program", re.compile(r"^https?://(wxaurl\.cn/|mp\.weixin\.qq\.com/a/|"
                                r"[a-z0-9.-]*\.weixin\.qq\.com/.*wxa)", re.I)),
    ("link", re.compile(r"^https?://", re.I)),
)


def qr_kind(content: str) -> str:
    """What a decoded QR content is: group_invite, contact, payment, mini_program, link or other."""
    text = content.strip()
    return next((kind for kind, pattern in _QR_PATTERNS if pattern.search(text)), "other")


@dataclass(frozen=True)
class QrScan:
    """What an image holds: the QR texts found, or why it was not read."""

    texts: tuple[str, ...] = ()
    skipped: str | None = None


def _pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        _POOL = ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="qrcode")
    return _POOL


def _slots() -> asyncio.Semaphore:
    """One slot per worker thread, per event loop (a Semaphore binds to the loop it first waits on)."""
    loop = asyncio.get_running_loop()
    if loop not in _SLOTS:
        _SLOTS[loop] = asyncio.Semaphore(_WORKERS)
    return _SLOTS[loop]


def scan_file(path: str | Path, max_bytes: int, max_pixels: int) -> QrScan:
    """Decode the QR codes of one image file (blocking; call it through `scan_image`)."""
    import warnings

    from PIL import Image

    try:
        size = os.stat(path).st_size
    except OSError as exc:
        return QrScan(skipped=f"unreadable: {exc.strerror or exc}")
    if size > max_bytes:
        return QrScan(skipped=f"{size} bytes is over the cap of {max_bytes}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            found = _decode(path, max_pixels)
            if isinstance(found, str):
                return QrScan(skipped=found)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            MemoryError) as exc:
        return QrScan(skipped=f"not a readable image: {type(exc).__name__}: {exc}"[:200])
    return QrScan(texts=tuple(found))


def _decode(path: str | Path, max_pixels: int) -> list[str] | str:
    """QR texts of the image (a str is the reason it was skipped), in one pass. A JPEG is decoded as luma only
    (libjpeg skips the chroma and the colour conversion: about as fast as the old half-size draft pass, and a
    small code keeps every pixel); a big one is also DCT-scaled by 1/2, 1/4... while its long side stays over
    7/8 of DECODE_SIDE."""
    import zxingcpp
    from PIL import Image

    with Image.open(path) as img:
        if img.format not in _FORMATS:
            return f"not a supported image ({img.format})"
        width, height = img.size
        if width * height > max_pixels:
            return f"{width}x{height} pixels is over the cap of {max_pixels}"
        if img.format == "JPEG":
            scale = 1
            while scale < 8 and max(width, height) // (scale * 2) >= DECODE_SIDE * 7 // 8:
                scale *= 2
            img.draft("L", (width // scale, height // scale))
        gray = img.convert("L")  # the first frame of a GIF
    if max(gray.size) > DECODE_SIDE:  # box-reduce, then bilinear: several times faster than the default bicubic
        gray.thumbnail((DECODE_SIDE, DECODE_SIDE), Image.Resampling.BILINEAR, reducing_gap=1.0)
    found = zxingcpp.read_barcodes(gray, formats=(zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.MicroQRCode))
    return [b.text for b in found if b.valid and b.text]


async def scan_image(path: str | Path, max_bytes: int, max_pixels: int) -> QrScan:
    """`scan_file` in a worker thread, with a time limit; logs what it skipped."""
    if not path:
        return QrScan(skipped="the image was not kept (over the adapter's size cap)")
    loop = asyncio.get_running_loop()
    async with _slots():  # wait for a free worker first: the time limit is for decoding, not for the queue
        try:
            result = await asyncio.wait_for(loop.run_in_executor(_pool(), scan_file, str(path), max_bytes,
                                                                 max_pixels), timeout=DECODE_SECONDS)
        except TimeoutError:
            result = QrScan(skipped=f"decoding took over {DECODE_SECONDS:.0f}s")
    if result.skipped:
        log.warning("image %s skipped: %s", path, result.skipped)
    return result
