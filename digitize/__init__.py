"""Image → `EcgRecord`: synthetic data (DataSynth), preprocessing, calibration, layout, trace extraction,
reconstruction and overlay."""
