"""Stand-ins for the image models in report tests: the test decides what the classifiers say."""

from pathlib import Path

from classify.labels import TILED_CLASSES
from classify.runtime import Beat, ClassificationResult, FusionResult, TiledResult
from report.pipeline import Pipeline


class FakeClassifier:
    """Stands in for the ONNX models so the test controls what the classifiers say."""

    def __init__(self, fired: tuple[str, ...], abnormal: float):
        self.fired, self.abnormal = fired, abnormal
        self.model_versions = {"tiled": "test", "detector": "test", "fusion": "test"}

    def classify_tiled(self, image, record=None):
        probs = {c: (0.9 if c in self.fired else 0.05) for c in TILED_CLASSES}
        return TiledResult(probs, self.fired, dict.fromkeys(TILED_CLASSES, 0.5))

    def classify_fusion(self, image):
        beats = (Beat((10.0, 10.0, 60.0, 80.0), 0.9),)
        return FusionResult(self.abnormal, "abnormal" if self.abnormal >= 0.5 else "normal", 0.5, beats)

    def combine(self, image, tiled, fusion):
        return ClassificationResult(tiled, fusion, self.model_versions, image.shape[:2])

    def classify(self, image, record=None):
        return self.combine(image, self.classify_tiled(image, record), self.classify_fusion(image))


def fake_pipeline(fired=("NORM",), abnormal=0.1) -> Pipeline:
    pipeline = Pipeline(Path("/nonexistent-models"))
    pipeline.classifier, pipeline.classifier_error = FakeClassifier(fired, abnormal), None
    return pipeline
