"""The registration form: what the participant typed, the station they mean, and the API's verdict per field."""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass

from starlette.requests import Request

from . import formatting
from .api import Answer, Json, Services

# The API's refusals (409/404 detail texts are stable) as the words the form shows.
REFUSALS = {
    "this email already holds a registration for this session or one at the same time": "already_registered",
    "this session was cancelled": "session_cancelled",
    "this session has already started": "session_started",
    "this session does not exist": "unknown_session",
}
FIELD_MESSAGES = {
    "name": "err_name",
    "email": "err_email",
    "phone": "err_phone",
    "company": "err_company",
    "origin_station_id": "err_station",
    "language": "err_choice",
    "profile": "err_choice",
}


@dataclass
class FormInput:
    name: str = ""
    email: str = ""
    language: str = "fr"
    phone: str = ""
    profile: str = "other"
    company: str = ""
    consent_to_contact: bool = False
    wants_voucher: bool = False
    station_query: str = ""
    origin_station_id: str = ""

    def api_body(self) -> Json:
        body = asdict(self)
        del body["station_query"]
        for optional in ("phone", "company", "origin_station_id"):
            body[optional] = body[optional] or None
        if not self.wants_voucher:
            body["origin_station_id"] = None
        return body


async def read_form(request: Request) -> tuple[FormInput, str]:
    """The typed values (trimmed) and the form's Idempotency-Key (one per rendered form)."""
    data = await request.form()

    def text(name: str) -> str:
        return str(data.get(name, "")).strip()

    form = FormInput(
        name=text("name"),
        email=text("email"),
        language=text("language"),
        phone=text("phone"),
        profile=text("profile") or "other",
        company=text("company"),
        consent_to_contact=data.get("consent_to_contact") == "on",
        wants_voucher=data.get("wants_voucher") == "on",
        station_query=text("station_query"),
        origin_station_id=text("origin_station_id"),
    )
    return form, text("idempotency_key")[:200] or str(uuid.uuid4())


async def resolve_station(api: Services, form: FormInput, language: str) -> tuple[dict[str, str], list[Json]]:
    """Without the page's script, the station is a typed name: find it, or offer the candidates to choose from."""
    if not form.wants_voucher or form.origin_station_id:
        return {}, []
    if not form.station_query:
        return {"origin_station_id": "err_station"}, []
    found = await api.stations(form.station_query)
    typed = form.station_query.casefold()
    exact = [
        s
        for s in found
        if typed in {s["name_fr"].casefold(), s["name_nl"].casefold(), formatting.station_label(s, "en").casefold()}
    ]
    if len(exact) == 1 or len(found) == 1:
        form.origin_station_id = (exact or found)[0]["id"]
        return {}, []
    candidates = [{"id": s["id"], "label": formatting.station_label(s, language)} for s in found]
    return {"origin_station_id": "err_station" if candidates else "err_station_unknown"}, candidates


def errors_from_api(answer: Answer) -> dict[str, str]:
    """Field -> text key. The API is the one judge of the rules; the form only words its verdict."""
    if answer.status == 429:
        return {"form": "too_many"}
    if answer.status == 422 and isinstance(answer.body.get("detail"), list):
        errors: dict[str, str] = {}
        for error in answer.body["detail"]:
            location = [part for part in error.get("loc", []) if part != "body"]
            field = str(location[0]) if location else "origin_station_id"  # the model's one cross-field rule
            errors.setdefault(field, FIELD_MESSAGES.get(field, "fix_errors"))
        return errors
    detail = answer.body.get("detail") if isinstance(answer.body, dict) else None
    return {"form": REFUSALS.get(str(detail), "unavailable")}
