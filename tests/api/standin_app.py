"""App factory for real-uvicorn tests: the service with the stand-in classifier; ``ECGSCREEN_TEST_PIPELINE=slow``
makes every job sleep ``ECGSCREEN_TEST_SLEEP`` seconds first (so a test can kill the server mid-job)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from api.app import create_app
from api.core.config import Settings
from classify.labels import TILED_CLASSES
from classify.runtime import Beat, ClassificationResult, FusionResult, TiledResult
from report.pipeline import Pipeline


class FakeClassifier:
    """Says NORM, fusion normal."""

    model_versions = {"tiled": "test", "detector": "test", "fusion": "test"}

    def classify_tiled(self, image, record=None):
        probs = {c: (0.9 if c == "NORM" else 0.05) for c in TILED_CLASSES}
        return TiledResult(probs, ("NORM",), dict.fromkeys(TILED_CLASSES, 0.5))

    def classify_fusion(self, image):
        return FusionResult(0.1, "normal", 0.5, (Beat((10.0, 10.0, 60.0, 80.0), 0.9),))

    def combine(self, image, tiled, fusion):
        return ClassificationResult(tiled, fusion, self.model_versions, image.shape[:2])

    def classify(self, image, record=None):
        return self.combine(image, self.classify_tiled(image, record), self.classify_fusion(image))


class _SlowPipeline(Pipeline):
    def run(self, source, *, patient=None):
        time.sleep(float(os.environ.get("ECGSCREEN_TEST_SLEEP", "30")))
        return super().run(source, patient=patient)


def standin_pipeline(slow: bool = False) -> Pipeline:
    """The real pipeline with `FakeClassifier`; ``slow`` sleeps before each run."""
    pipeline = (_SlowPipeline if slow else Pipeline)(Path("/nonexistent-models"))
    pipeline.classifier, pipeline.classifier_error = FakeClassifier(), None
    return pipeline


class GatedPipeline:
    """Blocks every run until ``gate`` is set (for queue-full and in-flight tests), then runs the fake pipeline."""

    def __init__(self) -> None:
        self.inner = standin_pipeline()
        self.classifier, self.classifier_error = self.inner.classifier, None
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def run(self, source, *, patient=None):
        self.started.release()
        self.gate.wait(30)
        return self.inner.run(source, patient=patient)


def make_app():
    slow = os.environ.get("ECGSCREEN_TEST_PIPELINE") == "slow"
    return create_app(Settings(), pipeline_factory=lambda settings: standin_pipeline(slow))
