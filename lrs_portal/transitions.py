"""The one way a status changes: a table of allowed moves, a row lock, history."""

from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models, transaction

from lrs_portal.models import User

M = TypeVar("M", bound=models.Model)


class TransitionNotAllowed(Exception):
    """A status change that the table of allowed moves does not permit."""


def transition(
    *,
    instance: M,
    to: str,
    allowed: Mapping[str, set[str]],
    acting_user: User,
    reason: str,
    changes: Mapping[str, Any] | None = None,
) -> M:
    """Move ``instance`` to status ``to`` if the table allows it, recording who and why.

    Locks the row first, so two caseworkers acting at once cannot both move it.
    ``changes`` are other fields saved with the status (timestamps, reasons).
    """
    with transaction.atomic():
        model = type(instance)
        locked = model._default_manager.select_for_update().get(pk=instance.pk)
        current = locked.status  # type: ignore[attr-defined]
        if to not in allowed.get(current, set()):
            raise TransitionNotAllowed(
                f"{model._meta.verbose_name} cannot move from {current} to {to}"
            )
        locked.status = to  # type: ignore[attr-defined]
        for field, value in (changes or {}).items():
            setattr(locked, field, value)
        locked._history_user = acting_user  # type: ignore[attr-defined]
        locked._change_reason = reason  # type: ignore[attr-defined]
        locked.save(update_fields=["status", *(changes or {})])
    return locked


def save_with_history(
    instance: M,
    *,
    acting_user: User | None,
    reason: str,
    fields: list[str] | None = None,
) -> M:
    """Save a history-tracked row, recording who made the change and why.

    ``acting_user`` is None only for people without an account (a director
    signing through their link); the reason then says who acted.
    """
    instance._history_user = acting_user  # type: ignore[attr-defined]
    instance._change_reason = reason  # type: ignore[attr-defined]
    instance.save(update_fields=fields) if fields else instance.save()
    return instance
