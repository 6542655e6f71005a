"""The web app's own response models (the search result is retrieval.contract.SearchResult)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


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


class ArticleChange(BaseModel):
    accepted: int = Field(ge=1, description="articles written durably by this request")
    ids: list[str] = Field(description="their ids, in the order given")
    published: bool = Field(description="true when they are searchable already (`wait=true`)")
    version: str = Field(description="the version this server searches now")


class PostedArticle(BaseModel):
    """One article of `POST /api/articles`: the fields of a JSON Lines line (other fields are kept as metadata)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, description="the article's id (or `_id`); an existing id is replaced")
    title: str = Field(description="the title (may be empty)")
    text: str = Field(min_length=1, description="the body; cleaned of captions, credits and boilerplate unless `raw`")
    source: str | None = Field(None, description="the outlet or office that published it")
    url: str | None = None
    published: str | None = Field(None, description="a date: ISO or a Vietnamese form (`ngày 3/2/2021`)")
    author: str | None = None
    lang: str | None = Field(None, description="ISO 639-1 code; detected when absent")
    raw: bool = Field(False, description="true: the text is clean already, index it as it is")
