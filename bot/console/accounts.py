"""Creating console accounts (`infobot staff add`)."""

from __future__ import annotations

from sqlalchemy import Engine, select

from bot.console.security import MIN_PASSWORD, ROLES, hash_password
from bot.db import session_factory
from bot.db.models import AuditEntry, StaffUser


class AccountError(ValueError):
    """Why the account cannot be created, in one line."""


def add_staff(engine: Engine, email: str, role: str, password: str) -> None:
    email = email.strip().lower()
    if "@" not in email or len(email) > 200 or " " in email:
        raise AccountError(f"'{email}' is not an email address")
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}': use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    with session_factory(engine).begin() as session:
        if session.scalars(select(StaffUser).where(StaffUser.email == email)).first() is not None:
            raise AccountError(f"{email} already has an account")
        session.add(StaffUser(email=email, password_hash=hash_password(password), role=role))
        session.add(AuditEntry(actor="cli", action="staff_add", target=f"{email}:{role}"))
