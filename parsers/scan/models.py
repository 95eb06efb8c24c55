"""Where the OCR models are: the PP-OCRv4 mobile files that the `rapidocr_onnxruntime` wheel ships
(detection and recognition for Chinese and English, and the 0°/180° line classifier). Found beside
that package, never downloaded; this module imports nothing heavy, so it can say whether OCR is there."""

from __future__ import annotations

from importlib import util
from pathlib import Path

MODEL_PACKAGE = "rapidocr_onnxruntime"
DETECTION = "ch_PP-OCRv4_det_infer.onnx"
RECOGNITION = "ch_PP-OCRv4_rec_infer.onnx"
ORIENTATION = "ch_ppocr_mobile_v2.0_cls_infer.onnx"


def model_dir() -> Path | None:
    """The folder holding the three model files, or None when the package is not installed."""
    spec = util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "models"
    return folder if all((folder / name).is_file() for name in (DETECTION, RECOGNITION, ORIENTATION)) else None
