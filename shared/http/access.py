"""What an access record says about the request: the route that read PHI."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request


def route_name(request: Request) -> str:
    """`GET /v1/tasks/{task_id}`: the method and the route template (never ids or queries)."""
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', request.url.path)}"


RouteName = Annotated[str, Depends(route_name)]
