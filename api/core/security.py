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


def _parse_line(line: str) -> str | None:
    text = line.split("#", 1)[0].strip()
    if not text:
        return None
    if text.startswith(DIGEST_PREFIX):
        digest = text[len(DIGEST_PREFIX):].lower()
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise ValueError(f"malformed key digest in keys file: {text[:20]}…")
        return digest
    return key_digest(text)


class KeyRing:
    """The set of accepted key digests (environment keys + keys file, re-read on change)."""

    def __init__(self, keys: list[str], keys_file: Path | None = None) -> None:
        self._static = frozenset(key_digest(k) for k in keys)
        self._file = keys_file
        self._file_digests: frozenset[str] = frozenset()
        self._file_stamp: tuple[int, int] | None = None
        self._lock = threading.Lock()
        self._reload()

    def _reload(self) -> None:
        if self._file is None:
            return
        try:
            stat = self._file.stat()
        except FileNotFoundError:
            self._file_digests, self._file_stamp = frozenset(), None
            return
        stamp = (stat.st_mtime_ns, stat.st_size)
        if stamp == self._file_stamp:
            return
        lines = self._file.read_text(encoding="utf-8").splitlines()
        self._file_digests = frozenset(d for d in map(_parse_line, lines) if d)
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
