"""Training, data preparation and ONNX export of the image classifiers (imports torch; never used by serving)."""
