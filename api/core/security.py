"""API keys: only their sha256 digests are kept in memory; the keys file may hold digests instead of keys.

Keys come from ``ECGSCREEN_API_KEYS`` (comma-separated) and ``ECGSCREEN_API_KEYS_FILE`` (one per line, either the
key or ``sha256:<64 hex>``, ``#`` comments allowed). The file is re-read when its modification time changes, so
deleting a line revokes that key without a restart. Comparison is constant-time over the digests.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from pathlib import Path

DIGEST_PREFIX = "sha256:"


def key_digest(key: str) -> str:
    """Hex sha256 of an API key (what is stored and compared)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


MAX_LABEL_CHARS = 64


def _parse_line(line: str) -> str | None:
    fields = line.split("#", 1)[0].split()
    if not fields:
        return None
    text = fields[0]  # an optional label may follow
    if text.startswith(DIGEST_PREFIX):
        digest = text[len(DIGEST_PREFIX):].lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"malformed key digest in keys file: {text[:20]}…")
        return digest
    return key_digest(text)


def _parse_label(line: str) -> str | None:
    """The label after the key on a keys-file line, if any (printable, at most :data:`MAX_LABEL_CHARS`)."""
    parts = line.split("#", 1)[0].strip().split(maxsplit=1)
    if len(parts) < 2:
        return None
    label = "".join(ch for ch in parts[1].strip() if ch.isprintable())[:MAX_LABEL_CHARS]
    return label or None


class KeyRing:
    """The set of accepted key digests (environment keys + keys file, re-read on change)."""

    def __init__(self, keys: list[str], keys_file: Path | None = None) -> None:
        self._static = frozenset(key_digest(k) for k in keys)
        self._file = keys_file
        self._file_digests: frozenset[str] = frozenset()
        self._labels: dict[str, str] = {}
        self._file_stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._reload()

    def _reload(self) -> None:
        if self._file is None:
            return
        try:
            stat = self._file.stat()
        except FileNotFoundError:
            self._file_digests, self._file_stamp, self._labels = frozenset(), None, {}
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._file_stamp:
            return
        lines = self._file.read_text(encoding="utf-8").splitlines()
        self._file_digests = frozenset(d for d in map(_parse_line, lines) if d)
        self._labels = {d: label for d, label in ((_parse_line(x), _parse_label(x)) for x in lines) if d and label}
        self._file_stamp = stamp

    @property
    def configured(self) -> bool:
        with self._lock:
            self._reload()
            return bool(self._static or self._file_digests)

    def accepts(self, key: str | None) -> bool:
        """Whether ``key`` is one of the accepted keys."""
        if not key:
            return False
        digest = key_digest(key)
        with self._lock:
            self._reload()
            accepted = self._static | self._file_digests
        found = False
        for candidate in accepted:  # no early exit: time does not depend on which key matched
            found |= hmac.compare_digest(candidate, digest)
        return found

    def label(self, key: str | None) -> str:
        """Who holds ``key``: its label in the keys file, else ``key:<8 hex of its digest>`` (call after `accepts`)."""
        if not key:
            return "anonymous"
        digest = key_digest(key)
        with self._lock:
            self._reload()
            return self._labels.get(digest) or f"key:{digest[:8]}"
