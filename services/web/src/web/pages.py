"""The participant's pages: programme, registration form, my registration (with its voucher), cancel."""

from __future__ import annotations

import uuid
from itertools import groupby
from pathlib import Path
from typing import Any

import segno
from atelier_platform.ratelimit import client_address
from atelier_schemas.vocabulary import LANGUAGES, PROFILES, TOPICS
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from . import calendar, formatting, texts
from .api import Json, Services, Unavailable
from .registration_form import FormInput, errors_from_api, read_form, resolve_station

router = APIRouter()
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")  # autoescapes .html
templates.env.globals.update(fmt=formatting, topics=TOPICS, profiles=PROFILES, languages=LANGUAGES)
MANAGE_COOKIE = "manage"


def services(request: Request) -> Services:
    found: Services = request.app.state.services
    return found


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    language = texts.language_of(request)
    response = templates.TemplateResponse(
        request, template, {"lang": language, "t": texts.WORDS[language], **context}, status_code=status_code
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(texts.COOKIE, language, max_age=365 * 24 * 3600, samesite="lax")
    return response


def secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


@router.get("/", response_class=HTMLResponse)
async def programme(request: Request, topic: str = "", language: str = "", day: str = "") -> HTMLResponse:
    filters = {"topic": topic} if topic in TOPICS else {}
    if language in LANGUAGES:
        filters["language"] = language
    if formatting.is_date(day):
        filters["date_from"] = filters["date_to"] = day
    sessions = await services(request).sessions(**filters)
    lang = texts.language_of(request)
    days = [(day, list(group)) for day, group in groupby(sessions, lambda s: formatting.day(s["starts_at"], lang))]
    return page(request, "programme.html", days=days, topic=topic, language=language, day=day)


@router.get("/sessions/{session_id}/register", response_class=HTMLResponse)
async def registration_form(request: Request, session_id: uuid.UUID) -> HTMLResponse:
    session = await services(request).session(str(session_id))
    if session is None:
        return page(request, "message.html", 404, message="unknown_session")
    blank = FormInput(language=texts.language_of(request))
    return page(request, "register.html", session=session, form=blank, errors={}, key=str(uuid.uuid4()))


@router.post("/sessions/{session_id}/register", response_class=HTMLResponse)
async def register(request: Request, session_id: uuid.UUID) -> Response:
    api = services(request)
    session = await api.session(str(session_id))
    if session is None:
        return page(request, "message.html", 404, message="unknown_session")
    form, key = await read_form(request)
    errors, stations = await resolve_station(api, form, texts.language_of(request))
    if not errors:
        client = client_address(request, request.app.state.settings.proxies())
        answer = await api.register(str(session_id), form.api_body(), key, client)
        if answer.status == 201:
            registered = answer.body
            target = f"/registrations/{registered['registration_id']}"
            response = RedirectResponse(target, status_code=303)
            keep_token(request, response, registered["registration_id"], registered["manage_token"])
            return response
        errors = errors_from_api(answer)
    # A corrected form is a new attempt: a new key, or the API would replay (or refuse) the first answer.
    key = str(uuid.uuid4())
    return page(request, "register.html", 422, session=session, form=form, errors=errors, key=key, stations=stations)


def keep_token(request: Request, response: Response, registration_id: str, token: str) -> None:
    """The manage token lives in an HttpOnly cookie for this registration's pages only, never in a URL."""
    response.set_cookie(
        MANAGE_COOKIE,
        token,
        path=f"/registrations/{registration_id}",
        max_age=30 * 24 * 3600,
        httponly=True,
        secure=secure(request),
        samesite="lax",
    )


async def own_registration(request: Request, registration_id: uuid.UUID) -> tuple[Json | None, str]:
    token = request.cookies.get(MANAGE_COOKIE, "")
    if not token:
        return None, token
    return await services(request).registration(str(registration_id), token), token


@router.get("/registrations/{registration_id}", response_class=HTMLResponse)
async def my_registration(request: Request, registration_id: uuid.UUID, done: str = "") -> HTMLResponse:
    registration, token = await own_registration(request, registration_id)
    if registration is None:
        # The email's link carries the token in its fragment: the page's script hands it over (POST /open).
        status_code = 404 if token else 200
        return page(request, "open.html", status_code, registration_id=registration_id, failed=bool(token))
    api = services(request)
    session = await api.session(registration["session_id"])
    voucher = await api.voucher(str(registration_id)) if registration["wants_voucher"] else None
    qr = None
    if voucher and voucher.get("qr_payload"):
        qr = segno.make(voucher["qr_payload"], error="m", micro=False).png_data_uri(scale=5, border=4)
    return page(
        request,
        "my_registration.html",
        registration=registration,
        session=session,
        voucher=voucher,
        qr=qr,
        just_cancelled=done == "cancelled",
    )


@router.post("/registrations/{registration_id}/open")
async def open_registration(request: Request, registration_id: uuid.UUID) -> Response:
    token = str((await request.form()).get("token", "")).strip()
    if not token or await services(request).registration(str(registration_id), token) is None:
        return page(request, "open.html", 404, registration_id=registration_id, failed=True)
    response = RedirectResponse(f"/registrations/{registration_id}", status_code=303)
    keep_token(request, response, str(registration_id), token)
    return response


@router.get("/registrations/{registration_id}/cancel", response_class=HTMLResponse)
async def confirm_cancel(request: Request, registration_id: uuid.UUID) -> HTMLResponse:
    registration, _ = await own_registration(request, registration_id)
    if registration is None:
        return page(request, "open.html", 404, registration_id=registration_id, failed=True)
    session = await services(request).session(registration["session_id"])
    return page(request, "cancel.html", registration=registration, session=session, key=str(uuid.uuid4()))


@router.post("/registrations/{registration_id}/cancel")
async def cancel(request: Request, registration_id: uuid.UUID) -> Response:
    _, token = await own_registration(request, registration_id)
    key = str((await request.form()).get("idempotency_key", "")) or str(uuid.uuid4())
    answer = await services(request).cancel(str(registration_id), token, key)
    if answer.status == 200:
        return RedirectResponse(f"/registrations/{registration_id}?done=cancelled", status_code=303)
    if answer.status == 409:
        return page(request, "message.html", 409, message="session_started")
    return page(request, "open.html", 404, registration_id=registration_id, failed=True)


@router.get("/registrations/{registration_id}/calendar.ics")
async def calendar_file(request: Request, registration_id: uuid.UUID) -> Response:
    registration, _ = await own_registration(request, registration_id)
    if registration is None:
        return Response(status_code=404)
    session = await services(request).session(registration["session_id"])
    if session is None:
        return Response(status_code=404)
    lang = texts.language_of(request)
    body = calendar.entry(str(registration_id), session, lang, cancelled=registration["status"] == "cancelled")
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="atelier.ics"'},
    )


@router.get("/stations")
async def stations(request: Request, q: str = "") -> JSONResponse:
    """For the form's station search: names in the reader's language, with the id the API wants."""
    lang = texts.language_of(request)
    found = await services(request).stations(q) if len(q.strip()) >= 2 else []
    return JSONResponse([{"id": s["id"], "label": formatting.station_label(s, lang)} for s in found])


async def unavailable(request: Request, exc: Exception) -> HTMLResponse:
    """Registered in app.py for `Unavailable`: a page that says so, never a 500."""
    busy = isinstance(exc, Unavailable) and exc.busy
    response = page(request, "message.html", 503, message="busy" if busy else "unavailable")
    response.headers["Retry-After"] = "5"
    return response
