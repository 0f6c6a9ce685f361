"""Small PNG charts of an evaluation report, drawn with Pillow (no plotting library locked).

Each function returns PNG bytes: ROC curve, calibration curve (reliability diagram) and
cumulative gain by decile, each against its reference line.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageDraw

SIZE, MARGIN = 360, 44
BLUE, GREY, RED, BLACK = (31, 119, 180), (170, 170, 170), (214, 39, 40), (40, 40, 40)


def _canvas(
    title: str, x_label: str, y_label: str, scale: float = 1.0
) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", (SIZE, SIZE), "white")
    draw = ImageDraw.Draw(image)
    left, top, right, bottom = MARGIN, MARGIN - 14, SIZE - 14, SIZE - MARGIN
    draw.rectangle([left, top, right, bottom], outline=BLACK)
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = _xy(tick, tick)
        draw.line([x, bottom, x, bottom + 4], fill=BLACK)
        draw.text((x - 8, bottom + 6), f"{tick * scale:.2g}", fill=BLACK)
        draw.line([left - 4, y, left, y], fill=BLACK)
        draw.text((4, y - 5), f"{tick * scale:.2g}", fill=BLACK)
    draw.text((left, 4), title, fill=BLACK)
    draw.text((left + 90, SIZE - 16), x_label, fill=BLACK)
    draw.text((left + 4, top + 4), y_label, fill=BLACK)
    return image, draw


def _xy(x: float, y: float) -> tuple[float, float]:
    left, top, right, bottom = MARGIN, MARGIN - 14, SIZE - 14, SIZE - MARGIN
    return left + x * (right - left), bottom - y * (bottom - top)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _line(draw: ImageDraw.ImageDraw, points: Sequence[tuple[float, float]], colour, width: int = 2) -> None:
    if len(points) > 1:
        draw.line([_xy(x, y) for x, y in points], fill=colour, width=width)


def roc_png(points: Sequence[tuple[float, float]], auc: float | None) -> bytes:
    image, draw = _canvas(
        f"ROC curve (AUC {auc:.3f})" if auc else "ROC curve", "false positive rate", "true positive rate"
    )
    _line(draw, [(0, 0), (1, 1)], GREY, 1)
    _line(draw, points, BLUE)
    return _png(image)


def calibration_png(rows: Sequence[dict[str, float]]) -> bytes:
    top = max([1e-6, *(r["predicted"] for r in rows), *(r["observed"] for r in rows)])
    top = min(1.0, top * 1.1)
    image, draw = _canvas("Calibration", "mean predicted", "observed rate", scale=top)
    _line(draw, [(0, 0), (1, 1)], GREY, 1)
    points = [(r["predicted"] / top, r["observed"] / top) for r in rows]
    _line(draw, points, RED)
    for x, y in points:
        cx, cy = _xy(x, y)
        draw.ellipse([cx - 3, cy - 3, cx + 3, cy + 3], fill=RED)
    return _png(image)


def gain_png(rows: Sequence[dict[str, float]]) -> bytes:
    image, draw = _canvas(
        "Cumulative gain by decile", "share of rows, best scored first", "share of positives"
    )
    _line(draw, [(0, 0), (1, 1)], GREY, 1)
    points = [(0.0, 0.0)] + [(r["decile"] / 10, r["cumulative_gain"]) for r in rows]
    _line(draw, points, BLUE)
    return _png(image)
