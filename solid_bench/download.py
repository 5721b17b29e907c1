"""Fetch MSDialog-IntentPred's public copy, check its SHA-256, and write it atomically."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

from .errors import UserError

#: Pinned public copy: github.com/ChuanMeng/SIP at commit 9c474c8 (files unchanged since 4444a6c).
MSDIALOG_URL = "https://raw.githubusercontent.com/ChuanMeng/SIP/9c474c8f0719871754c57b9d7b9c73a2d5397931/dataset/MSDialog"
URL_ENV = "SOLID_BENCH_MSDIALOG_URL"
TIMEOUT_S = 15.0

LICENCE_NOTE = (
    "MSDialog belongs to the Center for Intelligent Information Retrieval (CIIR), UMass Amherst, and is for "
    "research use only. If you use it, cite Qu et al., 'Analyzing and Characterizing User Intent in "
    "Information-seeking Conversations' (SIGIR 2018) and Qu et al., 'User Intent Prediction in "
    "Information-seeking Conversations' (CHIIR 2019)."
)


def _fetch(url: str, timeout: float) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (https or a test's 127.0.0.1)
        return resp.read()


def download_msdialog(dest_root: Path, base_url: str | None = None, timeout: float = TIMEOUT_S, echo=None) -> Path:
    """Download train/valid/test.tsv into ``dest_root/msdialog-intentpred``; return that folder.

    All three files are fetched and checked before any is written, so a failure leaves the folder
    as it was (files already present and correct are kept).
    """
    import http.client
    import urllib.error

    from .sources.msdialog import FOLDER, SHA256

    echo = echo or (lambda msg: print(msg, file=sys.stderr))
    base = (base_url or os.environ.get(URL_ENV) or MSDIALOG_URL).rstrip("/")
    folder = Path(dest_root).expanduser() / FOLDER
    fetched: dict[str, bytes] = {}
    for split in ("train", "valid", "test"):
        url = f"{base}/{split}.tsv"
        try:
            data = _fetch(url, timeout)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            reason = getattr(e, "reason", e)
            if isinstance(e, urllib.error.HTTPError):
                raise UserError(
                    f"Downloading {url} failed (HTTP {e.code}); copy MSDialog-IntentPred's train.tsv, valid.tsv "
                    f"and test.tsv into {folder} (or set SOLID_BENCH_DATA to a folder holding {FOLDER}/)."
                ) from None
            raise UserError(
                f"There is no network ({url} is unreachable: {reason}); copy MSDialog-IntentPred's train.tsv, "
                f"valid.tsv and test.tsv into {folder} (or set SOLID_BENCH_DATA to a folder holding {FOLDER}/)."
            ) from None
        digest = hashlib.sha256(data).hexdigest()
        if digest != SHA256[split]:
            raise UserError(
                f"{url} has SHA-256 {digest}, not the expected {SHA256[split]}; nothing was written to {folder}, "
                f"so copy a verified {split}.tsv there by hand."
            )
        fetched[split] = data
    from .outputs import write_bytes_atomic

    for split, data in fetched.items():
        write_bytes_atomic(folder / f"{split}.tsv", data)
    echo(f"Wrote train.tsv, valid.tsv and test.tsv (SHA-256 verified) to {folder}.")
    echo(LICENCE_NOTE)
    return folder
