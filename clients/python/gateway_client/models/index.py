from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="Index")


@_attrs_define
class Index:
    """`GET /`: where to go from the server's root.

    Attributes:
        object_ (Literal['index']):  Default: 'index'.
        name (Literal['payment-gateway']):  Default: 'payment-gateway'.
        dashboard (Literal['/dashboard']):  Default: '/dashboard'.
        api (Literal['/api/v1']):  Default: '/api/v1'.
        openapi (Literal['/api/v1/openapi.json']):  Default: '/api/v1/openapi.json'.
        health (Literal['/health']):  Default: '/health'.
    """

    object_: Literal["index"] = "index"
    name: Literal["payment-gateway"] = "payment-gateway"
    dashboard: Literal["/dashboard"] = "/dashboard"
    api: Literal["/api/v1"] = "/api/v1"
    openapi: Literal["/api/v1/openapi.json"] = "/api/v1/openapi.json"
    health: Literal["/health"] = "/health"

    def to_dict(self) -> dict[str, Any]:
        object_ = self.object_

        name = self.name

        dashboard = self.dashboard

        api = self.api

        openapi = self.openapi

        health = self.health

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "object": object_,
                "name": name,
                "dashboard": dashboard,
                "api": api,
                "openapi": openapi,
                "health": health,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        object_ = cast(Literal["index"], d.pop("object"))
        if object_ != "index":
            raise ValueError(f"object must match const 'index', got '{object_}'")

        name = cast(Literal["payment-gateway"], d.pop("name"))
        if name != "payment-gateway":
            raise ValueError(f"name must match const 'payment-gateway', got '{name}'")

        dashboard = cast(Literal["/dashboard"], d.pop("dashboard"))
        if dashboard != "/dashboard":
            raise ValueError(f"dashboard must match const '/dashboard', got '{dashboard}'")

        api = cast(Literal["/api/v1"], d.pop("api"))
        if api != "/api/v1":
            raise ValueError(f"api must match const '/api/v1', got '{api}'")

        openapi = cast(Literal["/api/v1/openapi.json"], d.pop("openapi"))
        if openapi != "/api/v1/openapi.json":
            raise ValueError(f"openapi must match const '/api/v1/openapi.json', got '{openapi}'")

        health = cast(Literal["/health"], d.pop("health"))
        if health != "/health":
            raise ValueError(f"health must match const '/health', got '{health}'")

        index = cls(
            object_=object_,
            name=name,
            dashboard=dashboard,
            api=api,
            openapi=openapi,
            health=health,
        )

        return index
