"""Verified downloads: mirrors tried in turn, retries with backoff, checksum before rename.

The paper-scale preset downloads real datasets (MNIST, text8, ...). A download is trusted only
after its digest matches the published one, and only then renamed onto its final path, so a
killed job or a corrupt mirror never leaves a file that a later step would take for good.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from rnnatlas.io import atomic_path

log = logging.getLogger("rnnatlas")

CHUNK = 1 << 20  # 1 MiB: few syscalls, small memory
MAX_BACKOFF = 30.0  # seconds; exponential backoff never waits longer than this
USER_AGENT = "rnnatlas-downloader (python urllib)"  # some hosts refuse urllib's default agent
# HTTP answers that a retry of the same URL can cure; any other 4xx moves to the next mirror
RETRY_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_DIGEST_LENGTH = {"sha256": 64, "md5": 32}


class DownloadError(RuntimeError):
    """No mirror delivered the file."""


class ChecksumError(DownloadError):
    """A file's digest differs from the published one."""


def fetch(
    urls: Sequence[str],
    dest: str | Path,
    sha256: str | None = None,
    md5: str | None = None,
    retries: int = 3,
    timeout: float = 60,
    progress: bool = True,
    *,
    backoff: float = 1.0,
) -> Path:
    """Download `dest` from the first mirror in `urls` that delivers it intact; return `dest`.

    Each URL (http, https or file) is tried up to `retries` times, waiting `backoff * 2**k`
    seconds between tries; a 404-like answer or a checksum mismatch skips to the next mirror at
    once, since asking the same server again would give the same bytes. sha256 is preferred;
    `md5` exists for sources that publish only md5 (torchvision's MNIST list); when both are
    given both must match. An existing `dest` whose digest matches is kept without any request;
    one that does not match is downloaded again. Without any checksum an existing file is kept
    as is (nothing to check it against).
    """
    dest = Path(dest)
    urls = _check_urls(urls, dest)
    expected = _expected_digests(sha256=sha256, md5=md5)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 1:
        raise ValueError(f"retries must be an integer >= 1, got {retries!r}")
    if dest.is_file():
        if not expected:
            log.info("keeping %s (no checksum given to verify it)", dest)
            return dest
        actual = file_digests(dest, expected)
        if actual == expected:
            log.info("keeping %s (checksum matches)", dest)
            return dest
        log.warning("%s exists but its checksum differs: downloading it again", dest)

    failures: list[str] = []
    checksum_failed = False
    for url in urls:
        for attempt in range(retries):
            try:
                _download_verified(url, dest, expected, timeout=timeout, progress=progress)
                return dest
            except ChecksumError as error:
                checksum_failed = True
                failures.append(f"{url}: {error}")
                log.warning("%s", error)
                break  # the same mirror would send the same bytes again
            except urllib.error.HTTPError as error:
                error.close()  # an HTTPError holds the open response
                failures.append(f"{url}: HTTP {error.code} {error.reason}")
                if error.code not in RETRY_STATUS:
                    break
            except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
                failures.append(f"{url}: {type(error).__name__}: {error}")
            log.warning("download of %s failed (try %d/%d)", url, attempt + 1, retries)
            if attempt + 1 < retries:
                time.sleep(min(backoff * 2**attempt, MAX_BACKOFF))
    kind = ChecksumError if checksum_failed else DownloadError
    raise kind(
        f"could not download {dest.name} to {dest}; every mirror failed:\n  "
        + "\n  ".join(failures)
        + "\nCheck the network (or put a verified copy at that path) and run again."
    )


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file, read in chunks (MNIST images are 10 MB, text8 100 MB)."""
    return file_digests(path, {"sha256": ""})["sha256"]


def file_digests(path: str | Path, algorithms) -> dict[str, str]:
    """Hex digest of `path` for each algorithm name in `algorithms`, in one pass over the file."""
    hashes = {name: _new_hash(name) for name in algorithms}
    with open(path, "rb") as stream:
        while block := stream.read(CHUNK):
            for digest in hashes.values():
                digest.update(block)
    return {name: digest.hexdigest() for name, digest in hashes.items()}


def _download_verified(
    url: str, dest: Path, expected: dict[str, str], *, timeout: float, progress: bool
) -> None:
    """Stream `url` to a temp file beside `dest`, verify, rename; the temp file never survives."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with atomic_path(dest) as tmp:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            total = _content_length(response)
            received = _stream(response, tmp, total=total, desc=dest.name, progress=progress)
        if total is not None and received != total:
            raise http.client.IncompleteRead(b"", total - received)
        if expected:
            actual = file_digests(tmp, expected)
            for name, digest in expected.items():
                if actual[name] != digest:
                    raise ChecksumError(
                        f"{name} of {dest.name} downloaded from {url} is {actual[name]}, "
                        f"expected {digest}: the mirror serves a different or corrupt file"
                    )


def _stream(response, path: Path, *, total: int | None, desc: str, progress: bool) -> int:
    received = 0
    with (
        open(path, "wb") as out,
        tqdm(
            total=total,
            desc=desc,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            disable=not progress,
            leave=False,
        ) as bar,
    ):
        while block := response.read(CHUNK):
            out.write(block)
            received += len(block)
            bar.update(len(block))
    return received


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _check_urls(urls: Sequence[str], dest: Path) -> list[str]:
    if isinstance(urls, str):  # a bare string would be iterated character by character
        urls = [urls]
    urls = list(urls)
    if not urls:
        raise ValueError(f"no URL given for {dest.name}: pass at least one mirror in `urls`")
    for url in urls:
        if not isinstance(url, str) or not re.match(r"^(https?|file)://", url):
            raise ValueError(f"mirror {url!r} for {dest.name} must be an http(s):// or file:// URL")
    return urls


def _expected_digests(**digests: str | None) -> dict[str, str]:
    """Lower-case hex digests that were given, each checked for its length and alphabet."""
    expected = {}
    for name, value in digests.items():
        if value is None:
            continue
        value = value.strip().lower()
        if not re.fullmatch(rf"[0-9a-f]{{{_DIGEST_LENGTH[name]}}}", value):
            raise ValueError(
                f"{name}={value!r} is not a {_DIGEST_LENGTH[name]}-character hex digest: "
                f"copy the published {name} exactly"
            )
        expected[name] = value
    return expected


def _new_hash(name: str):
    if name == "md5":  # integrity only, not security: FIPS builds need the flag
        return hashlib.md5(usedforsecurity=False)
    return hashlib.new(name)
