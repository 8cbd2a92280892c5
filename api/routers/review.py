"""``/review/{id}``: the reader's review page (static HTML + JS; it asks for the API key like the upload page)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.routers.page import STATIC_DIR

router = APIRouter(include_in_schema=False)


@router.get("/review/{job_id}")
def review_page(job_id: str) -> FileResponse:
    return FileResponse(STATIC_DIR / "review.html", media_type="text/html")
