"""The compatibility guard: within a version a type may only gain optional fields."""

from __future__ import annotations

import json
import shutil
from typing import Literal
from uuid import UUID

import pytest
from atelier_schemas import TicketIssued
from atelier_schemas.__main__ import main as schemas_cli
from atelier_schemas.compatibility import BreakingChanges, breaking_changes, check, next_version, release
from atelier_schemas.json_schemas import json_schema
from pydantic import BaseModel, Field
from support.contracts import RELEASED, load

TYPE = "be.atelier.test.booked.v1"
ADVICE = "publish the change as a new type be.atelier.test.booked.v2 instead"


class Place(BaseModel):
    room: str = Field(description="Room.")
    floor: int | None = None


class Booked(BaseModel):
    """The released shape every variant below is compared with."""

    booking_id: UUID
    seats: int = Field(ge=1, description="Seats taken.")
    place: Place
    status: Literal["held", "paid"]
    note: str | None = None


def guard(current: type[BaseModel]) -> list[str]:
    return breaking_changes(TYPE, Booked.model_json_schema(), current.model_json_schema())


def test_every_type_is_compatible_with_its_last_release():
    assert check(RELEASED) == []


def test_a_new_optional_field_passes_even_in_a_nested_model():
    class RoomedPlace(Place):
        building: str | None = Field(default=None, description="Building, when the centre has several.")

    class Newer(Booked):
        place: RoomedPlace
        paid_at: str | None = None

    assert guard(Newer) == []


def test_new_words_for_people_pass():
    class Reworded(Booked):
        """Someone booked seats."""

        seats: int = Field(ge=1, description="How many seats.", examples=[2], title="Seat count")

    assert guard(Reworded) == []


def test_a_removed_field_is_caught_by_name():
    class WithoutNote(BaseModel):
        booking_id: UUID
        seats: int = Field(ge=1)
        place: Place
        status: Literal["held", "paid"]

    assert guard(WithoutNote) == [f"{TYPE}: field 'note' was removed or renamed; {ADVICE}"]


def test_a_renamed_field_is_caught_and_its_likely_new_name_given():
    class Renamed(BaseModel):
        booking_id: UUID
        seat_count: int = Field(ge=1)
        place: Place
        status: Literal["held", "paid"]
        note: str | None = None

    assert guard(Renamed) == [
        f"{TYPE}: field 'seats' was removed or renamed (renamed to 'seat_count'?); {ADVICE}",
        f"{TYPE}: new field 'seat_count' is required; a new field must be optional; {ADVICE}",
    ]


def test_a_retyped_field_is_caught_by_name_with_both_types():
    class Retyped(Booked):
        seats: str

    [problem] = guard(Retyped)
    assert problem.startswith(f"{TYPE}: field 'seats' changed type from ")
    assert '"minimum": 1, "type": "integer"' in problem and '{"type": "string"}' in problem
    assert problem.endswith(ADVICE)


def test_a_retyped_field_of_a_nested_model_is_caught_by_its_path():
    class OtherPlace(BaseModel):
        room: int
        floor: int | None = None

    class Retyped(Booked):
        place: OtherPlace

    [problem] = guard(Retyped)
    assert problem.startswith(f"{TYPE}: field 'place.room' changed type")


def test_a_tighter_constraint_or_a_new_enum_value_is_a_retype():
    class Tighter(Booked):
        seats: int = Field(ge=2)

    class MoreStatuses(Booked):
        status: Literal["held", "paid", "refunded"]

    assert ["field 'seats' changed type" in p for p in guard(Tighter)] == [True]
    assert ["field 'status' changed type" in p for p in guard(MoreStatuses)] == [True]


def test_a_field_made_required_is_caught():
    class NoteRequired(Booked):
        note: str | None

    assert guard(NoteRequired) == [f"{TYPE}: field 'note' became required; {ADVICE}"]


def test_a_required_field_made_optional_is_caught_too():
    class SeatsOptional(Booked):
        seats: int = Field(default=1, ge=1)

    assert guard(SeatsOptional) == [
        f"{TYPE}: field 'seats' became optional, yet readers of the released schema expect it; {ADVICE}"
    ]


def test_a_new_required_field_is_caught():
    class WithRequiredCode(Booked):
        code: str

    assert guard(WithRequiredCode) == [f"{TYPE}: new field 'code' is required; a new field must be optional; {ADVICE}"]


def test_the_guard_reads_a_real_release():
    class Float(TicketIssued):
        price_eur: float = Field(description="Price.")

    class WithSeat(TicketIssued):
        seat: str | None = Field(default=None, description="Seat number.", examples=["42"])

    released = load(RELEASED / f"{TicketIssued.TYPE}.json")
    [problem] = breaking_changes(TicketIssued.TYPE, released, json_schema(Float))
    assert "field 'price_eur' changed type" in problem and "be.atelier.ticketing.issued.v2" in problem
    assert breaking_changes(TicketIssued.TYPE, released, json_schema(WithSeat)) == []


def test_a_released_type_without_a_model_is_caught(tmp_path):
    shutil.copytree(RELEASED, tmp_path, dirs_exist_ok=True)
    (tmp_path / "be.atelier.ticketing.lost.v1.json").write_text(json.dumps({"properties": {}}))
    [problem] = check(tmp_path)
    assert problem == "be.atelier.ticketing.lost.v1: was released but no model has this type any more; keep it"


def test_release_refuses_a_breaking_change_and_records_a_compatible_one(tmp_path):
    shutil.copytree(RELEASED, tmp_path, dirs_exist_ok=True)
    released = tmp_path / f"{TicketIssued.TYPE}.json"
    schema = load(released)
    schema["properties"]["seat"] = {"type": "string"}
    schema["required"].append("seat")
    released.write_text(json.dumps(schema))
    with pytest.raises(BreakingChanges, match="field 'seat' was removed or renamed"):
        release(tmp_path)

    del schema["properties"]["seat"], schema["properties"]["qr_payload"]
    schema["required"].remove("seat")
    released.write_text(json.dumps(schema))  # as if qr_payload were added since the release
    assert released.name in release(tmp_path)  # with any type changed compatibly since the last release
    assert check(tmp_path) == []


def test_the_command_exits_non_zero_and_names_the_field(tmp_path, capsys):
    shutil.copytree(RELEASED, tmp_path, dirs_exist_ok=True)
    released = tmp_path / f"{TicketIssued.TYPE}.json"
    schema = load(released)
    schema["properties"]["code"]["type"] = "integer"
    released.write_text(json.dumps(schema))
    assert schemas_cli(["compatibility", str(tmp_path)]) == 1
    assert "be.atelier.ticketing.issued.v1: field 'code' changed type" in capsys.readouterr().out
    assert schemas_cli(["compatibility", str(RELEASED)]) == 0


def test_the_next_version_of_a_type():
    assert next_version("be.atelier.registration.confirmed.v1") == "be.atelier.registration.confirmed.v2"
    assert next_version("be.atelier.registration.confirmed.v9") == "be.atelier.registration.confirmed.v10"
