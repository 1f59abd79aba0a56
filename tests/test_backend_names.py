"""A backend's pattern names (DESIGN.md "Names"): ``placement`` is in-process or service,
``article_column`` the articles' columns; a plug-in using version 2's names keeps its report."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from hybridbench.backend import Backend


class _Service(Backend):
    name = "names-service"
    placement = "service"
    article_column: ClassVar[dict[str, Any]] = {
        "engine_language": "Rust", "article_label": "Rust via gRPC", "article_order": 1}

    def call(self, workload: str, payload: bytes) -> bytes:
        return payload


def test_the_profile_records_the_placement_and_describe_the_article_column() -> None:
    backend = _Service()
    assert backend.profile()["placement"] == "service"
    assert backend.describe()["article_label"] == "Rust via gRPC"


def test_version_2_names_are_adopted_with_a_warning() -> None:
    with pytest.warns(DeprecationWarning) as caught:
        class Old(Backend):
            location = "in-process"
            placement = {"article_label": "Python only"}  # type: ignore[assignment]  # noqa: RUF012

            def call(self, workload: str, payload: bytes) -> bytes:
                return payload

    assert {"article_column" in str(w.message) for w in caught} == {True, False}
    assert Old.placement == "in-process"
    assert Old.article_column["article_label"] == "Python only"
    assert Old().describe()["profile"]["placement"] == "in-process"


def test_an_old_dict_placement_alone_leaves_the_inherited_placement() -> None:
    with pytest.warns(DeprecationWarning, match="article_column"):
        class Old(_Service):
            placement = {"article_label": "Rust via FFI"}  # type: ignore[assignment]  # noqa: RUF012

    assert Old.placement == "service" and Old.article_column == {"article_label": "Rust via FFI"}
