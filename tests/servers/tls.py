"""Throw-away certificates (openssl) that a test trusts explicitly through ca_file, never by switching
verification off."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def make_certificate(folder: Path, stem: str = "server") -> Certificate:
    """A self-signed certificate for localhost and 127.0.0.1; a P-256 key, so it is made in milliseconds."""
    cert, key = folder / f"{stem}.crt", folder / f"{stem}.key"
    request = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    subject = ["-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2"]
    subprocess.run([*request, *subject, "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return Certificate(cert, key)
