"""Training support shared by every learned part (``classify/train``, ``digitize/train``); imports torch.

Serving code never imports this package (``tests/test_serving_imports.py`` checks that torch stays out).
"""
