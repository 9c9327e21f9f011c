"""text8: English Wikipedia cleaned by Matt Mahoney's wikifil rules, and where to get it.

Two sources give the same kind of text (lowercase a-z words, single spaces):

- paper scale: `text8.zip` from mattmahoney.net, the first 10^8 characters of wikifil's output on
  the March 2006 English Wikipedia dump (enwik9), downloaded and verified by sha256;
- embedded default: the real English Wikipedia XML excerpt that ships inside gensim's test data
  (206 pages of a 2016 dump, 1.7 MB of bz2), cleaned here by the same rules, so no network is
  needed.

The cleaning reproduces the behaviour of wikifil.pl (Mahoney, June 2006; public domain; printed on
mattmahoney.net/dc/textdata.html), rule by rule and in its order, quirks included, so the embedded
text is cleaned exactly as text8 was. What it does, in short:

- the input is cut into records that each end at a '>' (Perl's `$/ = ">"`); a record containing
  `<text ` switches output on, one containing `#redirect` (any case) switches it off, and the
  record holding `</text>` is the last one printed. Text outside <text> ... </text> and whole
  redirect pages are dropped;
- in each printed record: the first xml tag run on a line is removed; `&amp;`, then `&lt;`,
  `&gt;` are decoded (so `&amp;lt;` ends up as `<`); `<ref ...> ... </ref>` and any other tag
  are removed; `[http:...` URLs lose the address and keep the visible text; image links lose
  `|thumb`, `|left`, `|right`, `|200px` and their target (the caption stays); **category links
  keep the category name as text** (wikifil shows categories "without markup"; it does not drop
  them); interlanguage links `[[xx:...]]` (lowercase prefix) are dropped; `[[target|text]]` keeps
  the text; `{{templates}}` and `{...}` (tables `{| ... |}`) are removed; brackets go; any other
  entity `&...;` becomes a space;
- then A-Z become a-z, each digit is spelled out (" zero " ... " nine "), every run of characters
  outside a-z becomes one space. Each printed record starts with a space and has no trailing
  one, so the output reads " word word word" (text8 starts with " anarchism").
"""

from __future__ import annotations

import bz2
import functools
import importlib.metadata
import importlib.util
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from rnnatlas.download import fetch, file_sha256

# ---- wikifil.pl ---------------------------------------------------------------------------------

# Perl ran on bytes: /i and \d are ASCII only. re.ASCII keeps Python from folding Unicode case.
_I = re.IGNORECASE | re.ASCII

# (pattern, replacement) applied in wikifil's order to every printed record, after its first
# `s/<.*>//` (one match only) and the three entity decodings.
_MARKUP_RULES: tuple[tuple[re.Pattern, str], ...] = (
    (re.compile(r"<ref[^<]*</ref>"), ""),  # references <ref ...> ... </ref>
    (re.compile(r"<[^>]*>"), ""),  # xhtml tags
    (re.compile(r"\[http:[^\] ]*"), "["),  # the URL of [http://... text]; the text stays
    (re.compile(r"\|thumb", _I), ""),  # image options, so the caption is what stays
    (re.compile(r"\|left", _I), ""),
    (re.compile(r"\|right", _I), ""),
    (re.compile(r"\|[0-9]+px", _I), ""),
    (re.compile(r"\[\[image:[^\[\]]*\|", _I), ""),  # [[Image:file| -> caption only
    (re.compile(r"\[\[category:([^|\]]*)[^\]]*\]\]", _I), r"[[\1]]"),  # category name stays
    (re.compile(r"\[\[[a-z\-]*:[^\]]*\]\]"), ""),  # interlanguage links [[de:...]]
    (re.compile(r"\[\[[^|\]]*\|"), "[["),  # [[target|text]] -> [[text]]
    (re.compile(r"\{\{[^}]*\}\}"), ""),  # {{templates}}
    (re.compile(r"\{[^}]*\}"), ""),  # {| tables |} and what the template rule left
    (re.compile(r"[\[\]]"), ""),  # remaining [ and ]
    (re.compile(r"&[^;]*;"), " "),  # any other entity (note: '&' up to the next ';')
)
_FIRST_TAG = re.compile(r"<.*>")  # '.' stops at a newline, as in Perl
_REDIRECT = re.compile(r"#redirect", _I)
_NOT_LETTERS = re.compile(r"[^a-z]+")
_DIGIT_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
# tr/A-Z/a-z/ and s/0/ zero /g ... in one pass; only ASCII letters change case, as in Perl
# (str.lower would turn the Kelvin sign into 'k')
_LOWER_AND_DIGITS = {ord(c): c.lower() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"} | {
    ord(str(d)): f" {word} " for d, word in enumerate(_DIGIT_WORDS)
}
READ_CHUNK = 1 << 20  # characters per read when streaming a file


def iter_records(chunks: Iterable[str]) -> Iterator[str]:
    """Perl's records for `$/ = ">"`: each ends with '>', the last one may not.

    `chunks` may cut the text anywhere (lines, fixed-size blocks); only one record is ever held,
    and a record is at most one page's wikitext (markup inside <text> is escaped, so a '>'
    closes the text element only).
    """
    pending: list[str] = []
    for chunk in chunks:
        if ">" not in chunk:
            if chunk:
                pending.append(chunk)
            continue
        parts = chunk.split(">")
        yield "".join(pending) + parts[0] + ">"
        for part in parts[1:-1]:
            yield part + ">"
        pending = [parts[-1]] if parts[-1] else []
    tail = "".join(pending)
    if tail:
        yield tail


def clean_record(record: str) -> str:
    """wikifil's rules on one printed record: " word word" (leading space, none trailing)."""
    text = _FIRST_TAG.sub("", record, count=1)
    text = text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    for pattern, replacement in _MARKUP_RULES:
        text = pattern.sub(replacement, text)
    text = f" {text} ".translate(_LOWER_AND_DIGITS)
    return _NOT_LETTERS.sub(" ", text)[:-1]  # Perl's chop drops the final space


def iter_clean_wikipedia(xml: str | Iterable[str]) -> Iterator[str]:
    """Cleaned pieces of a MediaWiki XML dump, in order; their concatenation is wikifil's output.

    `xml` is the whole dump as one string, or any iterable of pieces of it (lines of an open
    file, blocks): nothing but the current record is kept in memory.
    """
    chunks = [xml] if isinstance(xml, str) else xml
    inside_text = False
    for record in iter_records(chunks):
        if "<text " in record:
            inside_text = True
        if _REDIRECT.search(record):
            inside_text = False
        if not inside_text:
            continue
        if "</text>" in record:
            inside_text = False  # this record is still printed: it holds the page's text
        piece = clean_record(record)
        if piece:
            yield piece


def clean_wikipedia(
    xml: str | Iterable[str], max_characters: int | None = None, *, progress: bool = False
) -> str:
    """wikifil's output for a MediaWiki XML dump: " word word ..." in a-z and single spaces.

    `max_characters` keeps only the first characters of the output (text8 is the first 10^8 of
    it, cut with `head -c`, so its last word may be cut too); reading stops there.
    """
    if max_characters is not None and (
        isinstance(max_characters, bool)
        or not isinstance(max_characters, int)
        or max_characters < 0
    ):
        raise ValueError(f"max_characters must be None or an integer >= 0, got {max_characters!r}")
    pieces: list[str] = []
    total = 0
    with tqdm(
        total=max_characters, desc="wikifil", unit="char", unit_scale=True, disable=not progress
    ) as bar:
        for piece in iter_clean_wikipedia(xml):
            if max_characters is not None and total + len(piece) >= max_characters:
                pieces.append(piece[: max_characters - total])
                bar.update(max_characters - total)
                break
            pieces.append(piece)
            total += len(piece)
            bar.update(len(piece))
    return "".join(pieces)


def clean_wikipedia_file(
    path: str | Path, max_characters: int | None = None, *, progress: bool = False
) -> str:
    """`clean_wikipedia` of an XML dump file, plain or bz2 (recognised by its magic bytes).

    The file is streamed in blocks, so a 1 GB dump (enwik9) never sits in memory; UTF-8 bytes
    that do not decode become U+FFFD, which the rules turn into a space as wikifil does with any
    byte outside a-z.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"Wikipedia XML dump {path} does not exist")
    with open(path, "rb") as probe:
        compressed = probe.read(3) == b"BZh"
    opener = bz2.open if compressed else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as stream:
            blocks = iter(lambda: stream.read(READ_CHUNK), "")
            return clean_wikipedia(blocks, max_characters, progress=progress)
    except (OSError, EOFError) as error:  # a corrupt or cut bz2 stream
        raise ValueError(f"{path}: cannot read the dump ({error}); fetch it again") from None


# ---- paper scale: text8.zip ---------------------------------------------------------------------

TEXT8_URL = "http://mattmahoney.net/dc/text8.zip"
# Mahoney's host; https is tried second (the checksum, not the transport, is what we trust).
TEXT8_MIRRORS = (TEXT8_URL, "https://mattmahoney.net/dc/text8.zip")
TEXT8_SIZE = 31_344_016  # bytes of text8.zip (the size check of TensorFlow's word2vec tutorial)
# sha256 of text8.zip and of its member: the values that several unrelated public projects pin
# (Haskell and Python loaders, some checking both the zip and the member); none disagree.
TEXT8_SHA256 = "a6640522afe85d1963ad56c05b0ede0a0c000dddc9671758a6cc09b7a38e5232"
TEXT8_MEMBER = "text8"
TEXT8_MEMBER_SHA256 = "6e890197040d37d85beb962ae1f041ff1d9a9ca8d20c7d99c85027eebf51dca7"
TEXT8_CHARACTERS = 100_000_000  # the member: 17,005,207 words, 253,854 distinct
_TEXT8_ALPHABET = b" abcdefghijklmnopqrstuvwxyz"


def download_text8(
    path: str | Path,
    *,
    urls: Sequence[str] = TEXT8_MIRRORS,
    progress: bool = True,
    retries: int = 3,
    timeout: float = 60,
) -> Path:
    """Fetch text8.zip to `path` (kept when already there and intact); return its path.

    Verified by sha256 before it gets its final name, and by size after, so a wrong file never
    reaches `load_text8_zip`.
    """
    path = fetch(
        list(urls),
        Path(path),
        sha256=TEXT8_SHA256,
        retries=retries,
        timeout=timeout,
        progress=progress,
    )
    size = path.stat().st_size
    if size != TEXT8_SIZE:  # only reachable if the pinned digest and size disagree
        raise ValueError(
            f"{path} holds {size} bytes, text8.zip has {TEXT8_SIZE}: delete it and download again"
        )
    return path


def load_text8_zip(path: str | Path) -> str:
    """The text of the `text8` member of a text8.zip: " word word ..." (a-z and spaces only)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} does not exist: download it with download_text8 (or from {TEXT8_URL})"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if TEXT8_MEMBER not in names:
                raise ValueError(
                    f"{path} has no member {TEXT8_MEMBER!r} (it holds {names[:5]}): not "
                    f"text8.zip; download it again from {TEXT8_URL}"
                )
            raw = archive.read(TEXT8_MEMBER)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path}: not a readable zip ({error}); download it again") from None
    stray = raw.translate(None, _TEXT8_ALPHABET)
    if stray:
        raise ValueError(
            f"{path}: member {TEXT8_MEMBER!r} holds {len(stray)} bytes outside a-z and space "
            f"(first {stray[:1]!r}): not wikifil output; download text8.zip again"
        )
    return raw.decode("ascii")


# ---- embedded default: gensim's Wikipedia excerpt -----------------------------------------------

EMBEDDED_FILE = "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
EMBEDDED_DIR = ("test", "test_data")  # inside the gensim package


def embedded_xml_path() -> Path:
    """gensim's bundled English Wikipedia XML excerpt, found without importing gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "the embedded text8 default reads a Wikipedia excerpt shipped with gensim, which is "
            "not installed: pip install 'gensim>=4.3' (or use the paper preset's text8.zip)"
        )
    for root in spec.submodule_search_locations:
        path = Path(root).joinpath(*EMBEDDED_DIR, EMBEDDED_FILE)
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"gensim is installed but {'/'.join(EMBEDDED_DIR)}/{EMBEDDED_FILE} is missing from it "
        f"({list(spec.submodule_search_locations)}): reinstall gensim>=4.3 with its test data"
    )


def embedded_source() -> dict:
    """Package, version, data file (relative to site-packages) and its sha256."""
    path = embedded_xml_path()
    return {
        "kind": "embedded",
        "name": EMBEDDED_FILE,
        "dataset": "English Wikipedia XML excerpt shipped inside gensim's test data",
        "package": "gensim",
        "version": importlib.metadata.version("gensim"),
        "file": "/".join(("gensim", *EMBEDDED_DIR, EMBEDDED_FILE)),
        "sha256": file_sha256(path),
    }


def embedded_text(max_characters: int | None = None) -> str:
    """The embedded excerpt cleaned by wikifil's rules (first `max_characters` if given)."""
    text = _embedded_clean()
    return text if max_characters is None else text[:max_characters]


@functools.lru_cache(maxsize=1)
def _embedded_clean() -> str:
    """Cached: cleaning the 6 MB of XML takes about 2 s and a run may ask more than once."""
    return clean_wikipedia_file(embedded_xml_path())
