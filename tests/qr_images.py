"""Images for tests: posters with and without a QR code, made with zxing-cpp and Pillow."""

from __future__ import annotations

from pathlib import Path


def qr_image(text: str, scale: int = 8):  # -> PIL.Image.Image
    import zxingcpp
    from PIL import Image

    code = zxingcpp.write_barcode_to_image(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode), scale=scale)
    view = memoryview(code)
    return Image.frombytes("L", (view.shape[1], view.shape[0]), view.tobytes())


def poster(path: Path, qr_text: str | None = None, *, size: tuple[int, int] = (1080, 1920), fmt: str = "JPEG") -> Path:
    """A flat-coloured poster, with a QR code of `qr_text` pasted in its lower half."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size, (235, 205, 170))
    draw = ImageDraw.Draw(img)
    for i in range(0, size[1], 160):
        draw.rectangle((40, i + 20, size[0] - 40, i + 60), fill=(200, 90 + i % 100, 60))
    if qr_text is not None:
        img.paste(qr_image(qr_text).convert("RGB"), (size[0] // 3, size[1] * 3 // 5))
    img.save(path, fmt, quality=85) if fmt == "JPEG" else img.save(path, fmt)
    return path
