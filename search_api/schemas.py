"""The web app's own response models (the search result is retrieval.contract.SearchResult)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    error: str = Field(min_length=1, description="what is wrong, naming the parameter")
    param: str | None = Field(None, description="the parameter at fault, if one is")
    code: str = Field(description="stable and machine-readable, e.g. invalid_search_k, unknown_search_param")


class ReloadResult(BaseModel):
    reloaded: bool = Field(description="true when a newer version was swapped in")
    version: str = Field(description="the version served now")
    error: str | None = Field(default=None, description="why the published version could not be served, if so")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    articles: int = Field(ge=0)
    passages: int = Field(ge=0)
    model: str
