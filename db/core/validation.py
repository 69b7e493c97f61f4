"""Turning pydantic's validation errors into sentences that name the field."""

from typing import Any, TypeVar

import pydantic
from sqlmodel import SQLModel

from db.core.errors import ValidationError

M = TypeVar("M", bound=SQLModel)
# Ids are 32-bit integer columns on PostgreSQL; a larger number can name no row, and
# sending it would fail in the database instead of with a sentence.
ID_MAX = 2_147_483_647


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def parse_model(model: type[M], data: dict[str, Any], labels: dict[str, str] | None = None) -> M:
    """Build `model` from form data, raising ValidationError("Field: problem") on bad input."""
    try:
        parsed = model.model_validate(data)
    except pydantic.ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        label = (labels or {}).get(field, _label(field)) if field else "Input"
        message = first["msg"].rstrip(".")
        raise ValidationError(f"{label}: {message[0].lower()}{message[1:]}.", field=field) from err
    for field in type(parsed).model_fields:
        if not (field.endswith("_id") or field.endswith("_ids")):
            continue
        value = getattr(parsed, field)
        ids = value if isinstance(value, list) else [value]
        if any(isinstance(i, int) and not 0 < i <= ID_MAX for i in ids):
            name = field.removesuffix("_ids").removesuffix("_id")
            label = (labels or {}).get(field, _label(name))
            raise ValidationError(f"{label}: choose one from the list.", field=field)
    return parsed
