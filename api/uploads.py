"""Reading an upload safely: size limit (413), content sniffing (415), nothing kept on refusal."""

from __future__ import annotations

from fastapi import HTTPException, UploadFile, status

from api.sniff import Kind, Sniffed, UnsupportedMediaError, sniff

CHUNK = 1 << 20


async def read_upload(
    file: UploadFile, limit: int, *, accept: tuple[Kind, ...] = ("image", "record")
) -> tuple[bytes, Sniffed]:
    """The upload's bytes and sniffed type; raises 413 beyond ``limit`` bytes, 400 when empty, 415 for other types."""
    chunks, size = [], 0
    while chunk := await file.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise HTTPException(
                413, f"upload larger than the limit of {limit / 2**20:g} MB"
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "the uploaded file is empty")
    try:
        return data, sniff(data[:4096], accept=accept)
    except UnsupportedMediaError as exc:
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, str(exc)) from None
