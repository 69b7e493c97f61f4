"""Turning pydantic's validation errors into sentences that name the field."""

from typing import Any, TypeVar

import pydantic
from sqlmodel import SQLModel

from db.errors import ValidationError

M = TypeVar("M", bound=SQLModel)


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def parse_model(model: type[M], data: dict[str, Any], labels: dict[str, str] | None = None) -> M:
    """Build `model` from form data, raising ValidationError("Field: problem") on bad input."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as err:
        first = err.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        label = (labels or {}).get(field, _label(field)) if field else "Input"
        message = first["msg"].rstrip(".")
        raise ValidationError(f"{label}: {message[0].lower()}{message[1:]}.", field=field) from err
