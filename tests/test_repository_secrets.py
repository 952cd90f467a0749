"""Nothing secret in the repository: keys, private keys and tokens.

The scan covers every file git would commit: tracked files and untracked files
that .gitignore does not exclude. The fake AWS credentials that the tests, the
demo and the benchmarks hand to moto are allowed by name and value below.
"""

from __future__ import annotations

import math
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
MAX_SCANNED_BYTES = 5 * 1024 * 1024

# The fake credentials given to moto: tests/conftest.py sets "testing",
# infra/domain_guard_local/demo.py "demo" and benchmarks/check.py "bench".
FAKE_CREDENTIALS = frozenset({"testing", "demo", "bench"})

# The patterns are assembled from pieces, so this file does not match itself.
_DASHES = "-" * 5
AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
PRIVATE_KEY_BLOCK = re.compile(
    _DASHES + r"BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?" + _DASHES
)
# Token formats with a fixed prefix: GitHub, Slack, Stripe live keys, Google
# API keys, and the JSON Web Tokens that OAuth flows hand out.
KNOWN_TOKENS = re.compile(
    r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}"
    r"|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,})"
)
# A quoted value assigned to a name that says it is secret, as Python, YAML,
# JSON, TOML or shell writes it: NAME = "value", NAME: value, "NAME": "value".
SECRET_NAME = (
    r"[A-Za-z0-9_.-]*(?:secret|password|passwd|token|api_?key|private_?key"
    r"|credential|auth)[A-Za-z0-9_.-]*"
)
SECRET_ASSIGNMENT = re.compile(
    r"(?i)[\"']?(?P<name>" + SECRET_NAME + r")[\"']?[ \t]*[:=][ \t]*"
    r"(?P<quote>[\"']?)(?P<value>[^\"'\s,;#}]+)(?P=quote)"
)
# Names whose value is an AWS credential: any value but a fake one is a leak,
# however short or plain it looks.
AWS_CREDENTIAL_NAMES = frozenset(
    {
        "aws_access_key_id",
        "aws_secret_access_key",
        "aws_session_token",
        "aws_security_token",
    }
)
# Below these a value is a word or an identifier, not a generated secret.
MIN_TOKEN_LENGTH = 16
MIN_TOKEN_ENTROPY = 3.5  # bits per character


def repository_files() -> list[Path]:
    """List the files git would commit: tracked, and untracked but not ignored."""
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed, so the committed files are unknown")
    listed = subprocess.run(  # noqa: S603 (git, with fixed arguments)
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO_ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    paths = [REPO_ROOT / name for name in listed.split("\0") if name]
    return [path for path in paths if path.is_file()]


def read_text(path: Path) -> str | None:
    """Return a file's text, or None for a binary or oversized file."""
    if path.stat().st_size > MAX_SCANNED_BYTES:
        return None
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return None
    return data.decode("utf-8", errors="replace")


def shannon_entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def looks_generated(value: str) -> bool:
    """Tell whether a value looks like a random token rather than a word or code."""
    if len(value) < MIN_TOKEN_LENGTH:
        return False
    has_letter = any(character.isalpha() for character in value)
    has_digit = any(character.isdigit() for character in value)
    return has_letter and has_digit and shannon_entropy(value) >= MIN_TOKEN_ENTROPY


def secret_assignments(text: str) -> list[str]:
    """Return the assignments in ``text`` whose value may be a real secret."""
    found = []
    for match in SECRET_ASSIGNMENT.finditer(text):
        name = match["name"].lower()
        value = match["value"]
        if value in FAKE_CREDENTIALS:
            continue
        if (name in AWS_CREDENTIAL_NAMES and match["quote"]) or looks_generated(value):
            found.append(f"{match['name']} = {value[:4]}...")
    return found


def scan(pattern: re.Pattern[str]) -> list[str]:
    hits = []
    for path in repository_files():
        text = read_text(path)
        if text is None:
            continue
        for match in pattern.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            # Show only the start of a hit, so a failure does not print it.
            hits.append(f"{path.relative_to(REPO_ROOT)}:{line}: {match[0][:8]}...")
    return hits


def test_repository_files_listed() -> None:
    names = {path.relative_to(REPO_ROOT).as_posix() for path in repository_files()}
    assert "template.yaml" in names
    assert "tests/conftest.py" in names
    assert not any(name.startswith(".venv/") for name in names)


def test_repository_no_aws_key_ids() -> None:
    assert scan(AWS_KEY_ID) == []


def test_repository_no_private_keys() -> None:
    assert scan(PRIVATE_KEY_BLOCK) == []


def test_repository_no_known_tokens() -> None:
    assert scan(KNOWN_TOKENS) == []


def test_repository_no_secret_assignments() -> None:
    hits = []
    for path in repository_files():
        text = read_text(path)
        if text is None:
            continue
        for hit in secret_assignments(text):
            hits.append(f"{path.relative_to(REPO_ROOT)}: {hit}")
    assert hits == []


def test_repository_fake_credentials_allowed() -> None:
    # The fake values really are in use, so the allowance is not stale.
    text = (REPO_ROOT / "tests" / "conftest.py").read_text(encoding="utf-8")
    assert '"AWS_SECRET_ACCESS_KEY": "testing"' in text
    assert secret_assignments(text) == []


# The scanners themselves, on planted values built at run time.

PLANTED_KEY_ID = "AKIA" + "Q7" * 8
PLANTED_TOKEN = "gh" + "p_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ3bC5"
PLANTED_SECRET = "k9F" + "2mQx7Lp4Zr8Vt1Nw6Yb3"


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (AWS_KEY_ID, f"key = {PLANTED_KEY_ID}\n"),
        (AWS_KEY_ID, "ASIA" + "Z" * 16),
        (PRIVATE_KEY_BLOCK, _DASHES + "BEGIN RSA PRIVATE KEY" + _DASHES),
        (PRIVATE_KEY_BLOCK, _DASHES + "BEGIN OPENSSH PRIVATE KEY" + _DASHES),
        (PRIVATE_KEY_BLOCK, _DASHES + "BEGIN PRIVATE KEY" + _DASHES),
        (KNOWN_TOKENS, f"token: {PLANTED_TOKEN}"),
    ],
    ids=["akia", "asia", "rsa-key", "openssh-key", "pkcs8-key", "github-token"],
)
def test_scanner_finds_planted(pattern: re.Pattern[str], text: str) -> None:
    assert pattern.search(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        f'API_KEY = "{PLANTED_SECRET}"',
        f"db_password: {PLANTED_SECRET}",
        f'{{"client_secret": "{PLANTED_SECRET}"}}',
        "AWS_SECRET_ACCESS_KEY" + ' = "notfake"',
        "export AUTH_TOKEN='" + PLANTED_SECRET + "'",
    ],
    ids=["python", "yaml", "json", "aws-name", "shell"],
)
def test_scanner_finds_planted_assignment(text: str) -> None:
    assert secret_assignments(text) != []


@pytest.mark.parametrize(
    "text",
    [
        '"AWS_SECRET_ACCESS_KEY": "testing"',
        'token = response["token"]',
        "password_hash: str",
        'SECRET_NAME = r"[A-Za-z0-9_.-]*"',
        "max_tokens = 64",
    ],
    ids=["fake-credential", "lookup", "annotation", "pattern", "number"],
)
def test_scanner_ignores_harmless(text: str) -> None:
    assert secret_assignments(text) == []
