"""POST /v1/documents: upload one document (multipart: `file`, and metadata defaults as form fields),
under the same metadata contract and refusals as `quarry ingest`. The uploader may only give access
to groups its key has, and may not replace a document it could not read."""

import asyncio
import hashlib
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from quarry.agent.service.auth import Caller, CallerDep, StateDep
from quarry.agent.service.state import ServiceState
from quarry.corpus.documents import ReadOptions
from quarry.corpus.ingest import IngestReport
from quarry.corpus.loaders import Refusal, load_paths
from quarry.corpus.metadata import SourceDocument
from quarry.corpus.store import DocumentStore
from quarry.errors import FieldProblem, Forbidden, MetadataError, RequestTooLarge, UsageError

router = APIRouter(tags=["documents"])

_CHUNK = 1 << 20


def _groups(value: str | None) -> list[str] | None:
    if value is None:
        return None
    return [part.strip() for part in value.split(",") if part.strip()]


@router.post("/v1/documents", summary="Add a document (as `quarry ingest`)", status_code=201, response_model=None)
async def upload(
    caller: CallerDep,
    state: StateDep,
    file: Annotated[
        UploadFile,
        File(
            description="Markdown, text, JSONL, PDF, HTML or Word (.docx); its own metadata, or these fields, give metadata"
        ),
    ],
    title: Annotated[str | None, Form()] = None,
    author: Annotated[str | None, Form()] = None,
    domain: Annotated[str | None, Form()] = None,
    published_at: Annotated[datetime | None, Form(description="timezone-aware ISO-8601")] = None,
    access: Annotated[str | None, Form(description="groups allowed to read it, comma-separated")] = None,
    tags: Annotated[str | None, Form(description="comma-separated")] = None,
    language: Annotated[str | None, Form()] = None,
) -> JSONResponse:
    name = _safe_name(file.filename or "")
    defaults: dict[str, Any] = {
        key: value
        for key, value in {
            "title": title,
            "author": author,
            "domain": domain,
            "published_at": published_at,
            "access": _groups(access),
            "tags": _groups(tags),
            "language": language,
        }.items()
        if value is not None
    }
    path = _upload_path(state, caller, name)
    await _save(file, path, state.settings.service.max_upload_bytes)
    report = await asyncio.to_thread(_ingest, state, caller, path, defaults)
    body = {
        "inserted": report.inserted,
        "replaced": report.replaced,
        "unchanged": report.unchanged,
        "removed": [ref.id for ref in report.removed],
        "chunks_written": report.chunks_written,
        "refused": [{"document": r.label, "reason": r.reason} for r in report.refused],
    }
    if report.refused:
        first = report.refused[0]
        body["error"] = {
            "code": "document_refused",
            "message": f"document '{first.label}': {first.reason}",
            "field": None,
        }
        return JSONResponse(body, status_code=422)
    return JSONResponse(body, status_code=201 if report.inserted or report.replaced else 200)


def _safe_name(filename: str) -> str:
    name = PureWindowsPath(PurePosixPath(filename).name).name.strip()
    if not name or name in (".", "..") or len(name) > 200:
        raise UsageError("the upload needs a file name (e.g. notes.md): its suffix says how to read it", field="file")
    return name


def _upload_path(state: ServiceState, caller: Caller, name: str) -> Path:
    """Each principal's uploads keep their own folder, so one principal's `notes.md` never names another's."""
    owner = hashlib.sha256(caller.principal.id.encode()).hexdigest()[:16]
    return state.settings.data_dir / "uploads" / owner / name


async def _save(file: UploadFile, path: Path, limit: int) -> None:
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    size = 0
    with open(path, "wb") as out:
        while chunk := await file.read(_CHUNK):
            size += len(chunk)
            if size > limit:
                out.close()
                path.unlink(missing_ok=True)
                raise RequestTooLarge(f"the upload is over {limit:,} bytes (service.max_upload_bytes)")
            out.write(chunk)


def _ingest(state: ServiceState, caller: Caller, path: Path, defaults: dict[str, Any]) -> IngestReport:
    settings = state.settings
    components = state.components
    groups = set(caller.principal.groups)
    loaded = []
    for result in load_paths(
        [path],
        defaults=defaults,
        max_bytes=settings.ingest.max_document_bytes,
        max_asset_bytes=settings.ingest.max_asset_bytes,
        options=ReadOptions(max_pdf_pages=settings.ingest.max_pdf_pages, max_file_bytes=settings.ingest.max_file_bytes),
    ):
        if isinstance(result, SourceDocument):
            _check_may_write(components.store, result, groups, caller)
        loaded.append(result)
    if not loaded:
        loaded.append(Refusal(path.name, "holds no document"))
    return components.ingestor.ingest_documents(loaded)


def _check_may_write(store: DocumentStore, document: SourceDocument, groups: set[str], caller: Caller) -> None:
    wider = sorted(set(document.metadata.access) - groups)
    if wider:
        raise MetadataError(
            document.label,
            [
                FieldProblem(
                    "access",
                    f"gives access to {', '.join(wider)}, groups this key does not have",
                    f"give only groups among {', '.join(sorted(groups))}",
                )
            ],
        )
    existing = store.document(document.id)
    if existing is not None and not set(existing.access) <= groups:
        raise Forbidden(
            f"document '{document.label}' would replace document {document.id}, which '{caller.principal.id}' "
            "may not fully read; upload it under another id or name"
        )
