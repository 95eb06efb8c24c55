"""The OCR models on onnxruntime: text lines found on a page (detection), read (recognition), and
told upright from upside down (orientation), each character kept with its place and confidence.

Why not rapidocr's own pipeline: it pads every line to at least 320 px and gives each batch its own
width, so onnxruntime plans a new shape for nearly every batch; on two cores that made a page take
5–6 s instead of about 1.5 s, and it cannot give us characters' places without its word-box mode.
The models are the ones the `rapidocr_onnxruntime` wheel ships (PP-OCRv4 mobile, Chinese and
English), found beside that package: nothing is ever downloaded."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import onnxruntime as ort
from onnxruntime.capi import onnxruntime_pybind11_state as ort_state

from parsers.scan import OcrFailed
from parsers.scan.models import DETECTION, ORIENTATION, RECOGNITION

# Two cores on the bot's machine, shared with the mail loop: more threads only queue.
THREADS = 2
# Detection: the page's longer side is scaled to at most this (a multiple of 32). At 200 dpi a
# 10.5 pt character is about 30 px high; at 1,280 px for an A4 page it is still about 17 px, which
# DB finds reliably, at a third of the cost of full size. At 960 px (0.25 s less a page) it merged
# or lost lines: 5 of the bench's 14 pages fell from 14 or 13 fields right to 12 or 13.
DET_SIDE = 1280
_DET_THRESH = 0.3
_BOX_THRESH = 0.5
_UNCLIP = 1.6
_MIN_BOX = 3
# Recognition: lines are read 48 px high. Its cost is in proportion to the width it is given
# (about 0.15 ms of CPU per column on the bot's machine), so a batch holds lines of like widths,
# padded only to the next multiple of 32; rapidocr pads each line to at least 320.
REC_HEIGHT = 48
_REC_PAD = 32
_REC_MAX_WIDTH = 3200
_REC_BATCH = 8
# A recognition step covers 8 px of the 48-px-high line.
_REC_STRIDE = 8
_CLS_SHAPE = (48, 192)
# Characters the model gives for a look-alike that a form never holds: 丶 (a radical) for 、.
_LOOK_ALIKES = {"丶": "、"}


@dataclass(frozen=True)
class Box:
    """An axis-aligned text line on the page, in pixels."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def width(self) -> int:
        return self.x1 - self.x0


@dataclass(frozen=True)
class Char:
    """One recognised character: where its centre is on the page, and the model's confidence."""

    text: str
    x: float
    score: float


@dataclass(frozen=True)
class Line:
    box: Box
    chars: tuple[Char, ...]

    @property
    def text(self) -> str:
        return "".join(c.text for c in self.chars)


# What onnxruntime raises when it cannot load a model or allocate for a run (std::bad_alloc under an
# address-space limit comes as RuntimeException).
_ORT_ERRORS: tuple[type[Exception], ...] = (
    ort_state.RuntimeException,
    ort_state.Fail,
    ort_state.NoSuchFile,
    ort_state.InvalidProtobuf,
    ort_state.InvalidGraph,
    ort_state.EPFail,
)


def _run(session: Any, tensor: np.ndarray[Any, Any]) -> Any:
    try:
        return session.run(None, {"x": tensor})[0]
    except _ORT_ERRORS as exc:
        raise OcrFailed(f"onnxruntime: {type(exc).__name__}: {exc}"[:300]) from exc


class Engine:
    """The three models, loaded once per process (about 0.3 s and 60 MB)."""

    def __init__(self, folder: Path) -> None:
        try:
            self._load(folder)
        except _ORT_ERRORS as exc:
            raise OcrFailed(f"onnxruntime: {type(exc).__name__}: {exc}"[:300]) from exc

    def _load(self, folder: Path) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle threads sleep instead of spinning: on two shared cores a spinning thread burns the
        # time the mail loop and the other thread need (a page took 3.4–4 s of CPU spinning, 2.6 not).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Without the arena a page peaks about 250 MB lower, at no cost in time measured.
        options.enable_cpu_mem_arena = False
        providers = ["CPUExecutionProvider"]
        self.det = ort.InferenceSession(str(folder / DETECTION), options, providers=providers)
        self.rec = ort.InferenceSession(str(folder / RECOGNITION), options, providers=providers)
        self.cls = ort.InferenceSession(str(folder / ORIENTATION), options, providers=providers)
        characters = self.rec.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.alphabet = ["", *characters, " "]

    def detect(self, image: np.ndarray[Any, Any]) -> list[Box]:
        """Text lines of a grey page, as boxes in its pixels."""
        height, width = image.shape[:2]
        scale = min(1.0, DET_SIDE / max(height, width))
        h = max(32, round(height * scale / 32) * 32)
        w = max(32, round(width * scale / 32) * 32)
        small = cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)
        tensor = _normalise(cv2.cvtColor(small, cv2.COLOR_GRAY2BGR))
        prob = _run(self.det, tensor[None])[0, 0]
        return _boxes(prob, width / w, height / h, width, height)

    def recognise(self, image: np.ndarray[Any, Any], boxes: Sequence[Box]) -> list[Line]:
        """Each box's text, read from the grey page at full resolution. A quarter of the line's height
        is added at either end: a line's first character, when it is 一, is often left outside its box."""
        width = image.shape[1]
        padded = [Box(max(0, b.x0 - b.height // 4), b.y0, min(width, b.x1 + b.height // 4), b.y1) for b in boxes]
        crops = [(box, image[box.y0 : box.y1, box.x0 : box.x1]) for box in padded]
        resized = [(box, _line_image(crop)) for box, crop in crops if crop.size]
        order = sorted(range(len(resized)), key=lambda i: resized[i][1].shape[1])
        lines: dict[int, Line] = {}
        for start in range(0, len(order), _REC_BATCH):
            batch = order[start : start + _REC_BATCH]
            widest = max(resized[i][1].shape[1] for i in batch)
            width = -(-widest // _REC_PAD) * _REC_PAD
            tensor = np.zeros((len(batch), 3, REC_HEIGHT, width), dtype=np.float32)
            for slot, i in enumerate(batch):
                line = resized[i][1]
                tensor[slot, :, :, : line.shape[1]] = _normalise(cv2.cvtColor(line, cv2.COLOR_GRAY2BGR))
            probs = _run(self.rec, tensor)
            for slot, i in enumerate(batch):
                box, line = resized[i]
                lines[i] = Line(box, self._decode(probs[slot], box, box.width / line.shape[1]))
        return [lines[i] for i in range(len(resized))]

    def upside_down(self, image: np.ndarray[Any, Any], boxes: Sequence[Box]) -> float:
        """The share of these lines that the orientation model finds turned 180°."""
        if not boxes:
            return 0.0
        h, w = _CLS_SHAPE
        tensor = np.zeros((len(boxes), 3, h, w), dtype=np.float32)
        for slot, box in enumerate(boxes):
            crop = image[box.y0 : box.y1, box.x0 : box.x1]
            scaled = cv2.resize(crop, (min(w, max(1, math.ceil(h * crop.shape[1] / max(crop.shape[0], 1)))), h))
            tensor[slot, :, :, : scaled.shape[1]] = _normalise(cv2.cvtColor(scaled, cv2.COLOR_GRAY2BGR))
        probs = _run(self.cls, tensor)
        return float(np.mean(probs[:, 1] > probs[:, 0]))

    def _decode(self, probs: np.ndarray[Any, Any], box: Box, px_per_col: float) -> tuple[Char, ...]:
        """Greedy CTC: the best class per step, repeats and blanks dropped; a character's place is
        the middle of the steps that read it."""
        best = probs.argmax(axis=1)
        scores = probs.max(axis=1)
        chars: list[Char] = []
        previous = 0
        run: list[int] = []
        for step, index in enumerate(best.tolist()):
            if index == previous and run:
                run.append(step)
                continue
            if previous and run:
                chars.append(self._char(previous, run, scores, box, px_per_col))
            previous, run = index, [step]
        if previous and run:
            chars.append(self._char(previous, run, scores, box, px_per_col))
        return tuple(chars)

    def _char(self, index: int, steps: list[int], scores: np.ndarray[Any, Any], box: Box, px: float) -> Char:
        middle = (steps[0] + steps[-1] + 1) / 2 * _REC_STRIDE
        text = self.alphabet[index]
        return Char(_LOOK_ALIKES.get(text, text), box.x0 + middle * px, float(max(scores[s] for s in steps)))


def _normalise(image: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Pixels to [-1, 1], channels first, as the PP-OCR models were trained."""
    return (image.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)


def _line_image(crop: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    height, width = crop.shape[:2]
    target = max(8, math.ceil(REC_HEIGHT * width / max(height, 1)))
    return cv2.resize(crop, (min(target, _REC_MAX_WIDTH), REC_HEIGHT), interpolation=cv2.INTER_LINEAR)


def _boxes(prob: np.ndarray[Any, Any], sx: float, sy: float, width: int, height: int) -> list[Box]:
    """DB post-processing for upright text: each region above the threshold, kept when the model is
    sure enough of it on average, grown back by the margin the model was trained to shrink it by."""
    mask = cv2.dilate((prob > _DET_THRESH).astype(np.uint8), np.ones((2, 2), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[Box] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if min(w, h) < _MIN_BOX:
            continue
        if float(prob[y : y + h, x : x + w][mask[y : y + h, x : x + w] > 0].mean()) < _BOX_THRESH:
            continue
        grow = w * h * _UNCLIP / (2 * (w + h))
        boxes.append(
            Box(
                max(0, round((x - grow) * sx)),
                max(0, round((y - grow) * sy)),
                min(width, round((x + w + grow) * sx)),
                min(height, round((y + h + grow) * sy)),
            )
        )
    return sorted(boxes, key=lambda b: (b.y0, b.x0))
