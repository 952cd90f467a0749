"""Settings every test shares: fake AWS credentials and the real-sample folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# Set before any test module imports boto3, so no test can reach real AWS.
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SECURITY_TOKEN": "testing",
        "AWS_SESSION_TOKEN": "testing",
        # moto with current botocore needs this for DynamoDB Streams.
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_SERVICE_NAME": "domain-guard-tests",
    }
)
for leaked in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
    os.environ.pop(leaked, None)


def samples_dir() -> Path:
    """The real-world RDAP corpus, read in place from the shared folder."""
    override = os.environ.get("DOMAIN_GUARD_SAMPLES")
    if override:
        return Path(override)
    return REPO_ROOT.parent / "shared" / "rdap-samples"


@pytest.fixture(scope="session")
def rdap_samples() -> Path:
    folder = samples_dir()
    if not (folder / "MANIFEST.tsv").is_file():
        pytest.skip(
            f"real RDAP samples not found in {folder}; set DOMAIN_GUARD_SAMPLES"
            " to a folder of saved responses with its MANIFEST.tsv"
        )
    return folder
