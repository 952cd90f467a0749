"""explain on registry and registrar responses written in the shapes operators use.

Each case in fixtures/explain/expected.json names a response file, the time
and DNS outcome to decide at, the expected verdict and dates, the rule behind
them (``why``) and words the reasons must contain.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from domain_guard_local.cli import main

CASES_DIR = Path(__file__).parent / "fixtures" / "explain"
CASES: list[dict[str, Any]] = json.loads(
    (CASES_DIR / "expected.json").read_text(encoding="utf-8")
)


def explain(capsys: pytest.CaptureFixture[str], case: dict[str, Any]) -> Any:
    argv = ["explain", "--rdap-file", str(CASES_DIR / case["file"])]
    argv += ["--now", case["now"]]
    if case["verified_at"]:
        argv += ["--verified-at", case["verified_at"]]
    if case["dns"]:
        argv += ["--dns", case["dns"]]
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


@pytest.mark.parametrize("case", CASES, ids=[c["file"][:-5] for c in CASES])
def test_explain_case(capsys: pytest.CaptureFixture[str], case: dict[str, Any]) -> None:
    document = explain(capsys, case)
    assert document["verdict"] == case["verdict"], case["why"]
    assert document["domain"] == case["domain"]
    assert document["expires_at"] == case["expires_at"]
    assert document["registered_at"] == case["registered_at"]
    for words in case["reason_must"]:
        assert any(words in reason for reason in document["reasons"]), words
