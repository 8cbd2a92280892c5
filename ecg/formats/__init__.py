"""Readers and writers, one module per file format; `ecg.io` dispatches on the file name."""
