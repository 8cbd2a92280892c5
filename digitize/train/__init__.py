"""Training and ONNX export of the digitizer's learned parts (imports torch; never used by serving)."""
