"""HTTP conventions every service's API shares, one module per idea: problem+json errors
(`errors`), body limits (`limits`), credentials (`auth`) and the app factory (`app`)."""

from shared.http.app import (
    RuntimeDep,
    SettingsDep,
    install_http_conventions,
    runtime,
    service_app,
    settings,
)
from shared.http.auth import (
    AdminOnly,
    api_key_owner,
    api_key_scheme,
    check_admin,
    hash_secret,
    new_secret,
    require_admin,
)
from shared.http.errors import PROBLEM, problem
from shared.http.limits import MAX_BODY_BYTES, BodySizeLimit
from shared.http.openapi import problem_response
from shared.http.params import EncounterKeyQuery, IdPath

__all__ = [
    "EncounterKeyQuery",
    "IdPath",
    "AdminOnly",
    "SettingsDep",
    "settings",
    "MAX_BODY_BYTES",
    "PROBLEM",
    "BodySizeLimit",
    "RuntimeDep",
    "api_key_owner",
    "api_key_scheme",
    "check_admin",
    "hash_secret",
    "install_http_conventions",
    "new_secret",
    "problem",
    "problem_response",
    "require_admin",
    "runtime",
    "service_app",
]
