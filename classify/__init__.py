"""Image classifiers (RGB-tiled ResNet, global/local fusion), their runtime and the cross-check."""
