"""text8 cleaning (wikifil rules), the autocomplete packing of Madsen 2019, and its data step.

Expected strings are worked out by hand from wikifil.pl's rules; the embedded excerpt's cleaned
text is checked against the digest of the original Perl script's output on the same file.
"""

import bz2
import hashlib
import itertools
import zipfile
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnatlas.download import ChecksumError
from rnnatlas.papers.text8 import autocomplete as ac
from rnnatlas.papers.text8 import data as text8
from rnnatlas.papers.text8 import dataset as text8_data

# perl wikifil.pl (Mahoney 2006) on bzcat of gensim 4.4's
# enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2, run once by hand
PERL_EMBEDDED_SHA256 = "0cf035b28f92b01ff2dd0880909f6087bfb48bc8b8c726b793bccdad5c56a13c"
PERL_EMBEDDED_CHARACTERS = 3_085_829


def page(wikitext: str, title: str = "Secret Title") -> str:
    """One <page> of a MediaWiki dump whose text element holds `wikitext` (already escaped)."""
    return (
        f"  <page>\n    <title>{title}</title>\n    <revision>\n      <id>7</id>\n"
        f'      <text xml:space="preserve">{wikitext}</text>\n    </revision>\n  </page>\n'
    )


def clean(wikitext: str) -> str:
    return text8.clean_wikipedia("<mediawiki>\n" + page(wikitext) + "</mediawiki>\n")


# ---- wikifil rules ------------------------------------------------------------------------------


def test_only_text_inside_the_text_element_is_kept():
    # the title, ids and tags are outside <text>; the output starts with a space
    assert clean("Hello, World!") == " hello world"


def test_redirect_pages_are_dropped():
    xml = page("#REDIRECT [[Computer accessibility]]") + page("#redirect [[x]]") + page("After")
    assert text8.clean_wikipedia(xml) == " after"


def test_references_and_tags_are_removed():
    assert clean('A&lt;ref name="x"&gt;cite me&lt;/ref&gt; B') == " a b"
    assert clean("&lt;b&gt;bold&lt;/b&gt; text") == " bold text"


def test_links_keep_their_visible_text():
    assert clean("[[Target page|shown text]] and [[Plain]]") == " shown text and plain"


def test_image_links_keep_their_caption():
    assert clean("[[Image:Foo.jpg|thumb|right|200px|A caption]] x") == " a caption x"


def test_categories_keep_their_name_and_interlanguage_links_go():
    # wikifil shows categories "without markup": the name stays as text
    assert clean("[[Category:Political ideologies| ]]") == " political ideologies"
    assert clean("x [[de:Anarchismus]] [[zh-min-nan:Foo]] y") == " x y"


def test_templates_and_tables_are_removed():
    table = '{| class="wikitable"\n|-\n| cell\n|}'
    assert clean(f"a {{{{Infobox|x=1}}}} b {table} c") == " a b c"
    # nested templates: the first rule eats "{{outer {{inner}}", the tail's braces become spaces
    assert clean("a {{outer {{inner}} tail}} b") == " a tail b"


def test_url_links_keep_their_text():
    assert clean("[http://example.com/page Example site]") == " example site"
    # wikifil (2006) only knew http: an https link keeps its address as words
    assert clean("[https://x.org Site]") == " https x org site"


def test_digits_are_spelled_out():
    assert clean("In 1984, 7x") == " in one nine eight four seven x"


def test_entities_are_decoded_once_then_removed():
    assert clean("Tom &amp;amp; Jerry") == " tom jerry"  # &amp;amp; -> &amp; -> space
    assert clean("x&amp;nbsp;y") == " x y"
    # '&' up to the next ';' is an "entity" to wikifil, words and all
    assert clean("a &amp; b; c") == " a c"


def test_lowercase_ascii_and_single_spaces():
    assert clean("Hello,   WORLD!!\n\n  naïve") == " hello world na ve"
    assert clean("\u212a") == ""  # the Kelvin sign is not an ASCII 'K'


def test_records_and_streaming_in_any_chunks():
    assert list(text8.iter_records(["a>b", "c>", "d"])) == ["a>", "bc>", "d"]
    xml = page("One [[two|Three]] &lt;ref&gt;x&lt;/ref&gt; 4") + page("#REDIRECT y") + page("Z")
    whole = text8.clean_wikipedia(xml)
    assert whole == " one three four z"
    pieces = [xml[i : i + 7] for i in range(0, len(xml), 7)]
    assert text8.clean_wikipedia(pieces) == whole
    assert text8.clean_wikipedia(xml, max_characters=8) == " one thr"


def test_file_variant_reads_plain_and_bz2(tmp_path):
    xml = page("Alpha beta") + page("Gamma 2")
    plain = tmp_path / "dump.xml"
    plain.write_text(xml, encoding="utf-8")
    packed = tmp_path / "dump.xml.bz2"
    packed.write_bytes(bz2.compress(xml.encode()))
    for path in (plain, packed):
        assert text8.clean_wikipedia_file(path) == " alpha beta gamma two"
    with pytest.raises(FileNotFoundError, match="missing.xml"):
        text8.clean_wikipedia_file(tmp_path / "missing.xml")


def test_embedded_excerpt_matches_perl_wikifil_and_reads_as_english():
    text = text8.embedded_text()
    assert len(text) == PERL_EMBEDDED_CHARACTERS
    assert hashlib.sha256(text.encode()).hexdigest() == PERL_EMBEDDED_SHA256
    assert text.startswith(" anarchism is a political philosophy")  # first page is a redirect
    counts = Counter(text.split())
    assert [w for w, _ in counts.most_common(3)] == ["the", "of", "and"]
    assert text8.embedded_xml_path().name == text8.EMBEDDED_FILE
    source = text8.embedded_source()
    assert source["sha256"] == hashlib.sha256(text8.embedded_xml_path().read_bytes()).hexdigest()


# ---- text8.zip ----------------------------------------------------------------------------------

TEXT = " anarchism originated as a term of abuse"


def write_zip(path, member="text8", text=TEXT):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(member, text)
    return path


def test_load_text8_zip(tmp_path):
    assert text8.load_text8_zip(write_zip(tmp_path / "text8.zip")) == TEXT
    with pytest.raises(ValueError, match="no member 'text8'.*other"):
        text8.load_text8_zip(write_zip(tmp_path / "a.zip", member="other"))
    with pytest.raises(ValueError, match="outside a-z.*b'A'"):
        text8.load_text8_zip(write_zip(tmp_path / "b.zip", text=" Anarchism"))
    (tmp_path / "c.zip").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not a readable zip"):
        text8.load_text8_zip(tmp_path / "c.zip")


def test_download_text8_verifies_the_published_digest(tmp_path, monkeypatch):
    served = write_zip(tmp_path / "served.zip")
    url = served.as_uri()
    with pytest.raises(ChecksumError, match=text8.TEXT8_SHA256):  # not the real text8.zip
        text8.download_text8(tmp_path / "a" / "text8.zip", urls=[url], progress=False, retries=1)
    assert not (tmp_path / "a" / "text8.zip").exists()

    digest = hashlib.sha256(served.read_bytes()).hexdigest()
    monkeypatch.setattr(text8, "TEXT8_SHA256", digest)
    monkeypatch.setattr(text8, "TEXT8_SIZE", served.stat().st_size)
    path = text8.download_text8(tmp_path / "b" / "text8.zip", urls=[url], progress=False, retries=1)
    assert path == tmp_path / "b" / "text8.zip"
    assert text8.load_text8_zip(path) == TEXT


# ---- symbols, vocabulary, packing, splits -------------------------------------------------------


def test_symbols():
    assert len(ac.SYMBOLS) == 28 and ac.SYMBOLS[:3] == ("<eos>", " ", "a")
    assert ac.encode_text("ab z").tolist() == [2, 3, 1, 27]
    assert ac.encode_word("the").tolist() == [21, 9, 6]
    assert ac.decode_symbols([0, 1, 21, 9, 6, 0]) == " the"
    with pytest.raises(ValueError, match="'A' at position 1"):
        ac.encode_text("aA")
    with pytest.raises(ValueError, match="without spaces"):
        ac.encode_word("a b")


def test_vocabulary_by_frequency_ties_alphabetical():
    words = ["d", "a", "c", "b", "c", "b", "c"]  # c 3, b 2, a 1, d 1
    assert ac.build_vocabulary(words, 1) == ["<eos>", "<unknown>", "c", "b"]
    assert ac.build_vocabulary(words, 2) == ["<eos>", "<unknown>", "c", "b", "a", "d"]
    assert ac.build_vocabulary(words, 3) == ["<eos>", "<unknown>", "c", "b", "a", "d"]
    assert ac.word_ids(["b", "zz", "d"], ac.build_vocabulary(words, 1)).tolist() == [3, 1, 1]
    many = [f"w{i:02d}" for i in range(20)]
    shuffled = ac.build_vocabulary(many, 5, shuffle_seed=ac.SEED)
    assert shuffled == ac.build_vocabulary(many, 5, shuffle_seed=ac.SEED)
    assert shuffled[:2] == ["<eos>", "<unknown>"] and sorted(shuffled[2:]) == many
    assert shuffled[2:] != many
    with pytest.raises(ValueError, match="reserved"):
        ac.build_vocabulary(["<unknown>", "a"], 1)


def test_packing_hand_worked():
    vocabulary = ac.build_vocabulary(["the", "cat", "the", "sat"], 1)
    assert vocabulary == ["<eos>", "<unknown>", "the", "cat"]
    packed = ac.pack_observations(["the", "cat", "sat", "on"], vocabulary, max_chars=8)
    assert len(packed) == 2 and packed.skipped_words == 0
    assert packed.source(0).tolist() == [1, 21, 9, 6, 1, 4, 2, 21]  # " the cat"
    assert packed.target(0).tolist() == [2, 2, 2, 2, 3, 3, 3, 3]
    assert packed.source(1).tolist() == [1, 20, 2, 21, 1, 16, 15]  # " sat on"
    assert packed.target(1).tolist() == [1] * 7  # both outside the vocabulary
    offsets, sources, targets = packed.gather(np.array([1, 0]))
    assert offsets.tolist() == [0, 7, 15]
    assert ac.decode_symbols(sources) == " sat on the cat"
    assert targets.tolist() == [1] * 7 + [2] * 4 + [3] * 4


def test_packing_skips_words_that_fit_nowhere():
    packed = ac.pack_observations(["ab", "abcdefgh", "cd"], ["<eos>", "<unknown>"], max_chars=5)
    assert packed.skipped_words == 1
    assert [ac.decode_symbols(packed.source(i)) for i in range(len(packed))] == [" ab", " cd"]
    with pytest.raises(ValueError, match="empty"):
        ac.pack_observations(["a", "", "b"], ["<eos>", "<unknown>"])


def test_packing_is_greedy_whole_words_and_bounded():
    words = text8.embedded_text(60_000).split()[:-1]  # drop a possibly cut last word
    vocabulary = ac.build_vocabulary(words, 8)
    packed = ac.pack_observations(words, vocabulary, max_chars=50)
    sources = [ac.decode_symbols(packed.source(i)) for i in range(len(packed))]
    assert "".join(sources) == " " + " ".join(words)  # nothing lost, nothing split
    assert all(s.startswith(" ") and len(s) <= 50 for s in sources)
    for current, following in itertools.pairwise(sources):  # the next word did not fit
        assert len(current) + len(following.split(" ")[1]) + 1 > 50
    index = {w: i for i, w in enumerate(vocabulary)}
    for i, text in enumerate(sources[:50]):
        expected = [index.get(w, 1) for w in text.split() for _ in range(len(w) + 1)]
        assert packed.target(i).tolist() == expected


def test_split_sizes_and_determinism():
    sizes = {k: len(v) for k, v in ac.split_indices(507_663).items()}
    assert sizes == {"train": 456_896, "valid": 25_383, "test": 25_384}  # paper: 456,896 train
    splits = ac.split_indices(20)
    assert [len(splits[k]) for k in ac.SPLITS] == [18, 1, 1]
    assert sorted(np.concatenate(list(splits.values())).tolist()) == list(range(20))
    again = ac.split_indices(20)
    assert all(np.array_equal(splits[k], again[k]) for k in ac.SPLITS)
    assert not np.array_equal(splits["train"], ac.split_indices(20, seed=1)["train"])
    with pytest.raises(ValueError, match="summing to 1"):
        ac.split_indices(10, fractions=(0.9, 0.2, 0.1))


# ---- data step ----------------------------------------------------------------------------------


def test_truncate_text_never_cuts_a_word():
    assert text8_data.truncate_text(" ab cd ef", 5) == " ab"
    assert text8_data.truncate_text(" ab cd ef", 6) == " ab cd"
    assert text8_data.truncate_text(" ab cd ef", 100) == " ab cd ef"


def data_files(folder):
    """The paths data_step writes, as the text8_data rule names them."""
    return {name: folder / f"{name}.parquet" for name in ac.SPLITS} | {"card": folder / "card.json"}


def test_data_step_embedded(tmp_path):
    out = tmp_path / "data"
    card = text8_data.data_step(
        data_files(out),
        "embedded",
        vocabulary_bits=6,
        max_chars=60,
        max_characters=100_000,
        progress=False,
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "card.json",
        "test.parquet",
        "train.parquet",
        "valid.parquet",
    ]
    text = text8_data.truncate_text(text8.embedded_text(), 100_000)
    words = text.split()
    assert card == text8_data.read_card(out / "card.json")
    assert card["characters"] == len(text) and card["words"] == len(words)
    assert card["unique_words"] == len(set(words))
    assert card["vocabulary"][:3] == ["<eos>", "<unknown>", "the"]
    assert len(card["vocabulary"]) == card["vocabulary_size"] == 2 + 64
    assert card["symbols"] == list(ac.SYMBOLS)
    assert card["source"]["kind"] == "embedded" and card["sha256"] == card["source"]["sha256"]
    known = set(card["vocabulary"][2:])
    assert card["coverage"] == pytest.approx(sum(w in known for w in words) / len(words))
    n = card["observations"]["total"]
    assert [card["observations"][k] for k in ac.SPLITS] == [
        n * 9 // 10,
        n // 20,
        n - n * 9 // 10 - n // 20,
    ]

    schema = pq.read_schema(out / "train.parquet")
    assert schema.field("observation_id").type == pa.int64()
    assert schema.field("source").type.value_type == pa.int8()
    assert schema.field("target").type.value_type == pa.int32()
    assert schema.field("length").type == pa.int32()
    rows = []
    for split in ac.SPLITS:
        card = text8_data.read_card(out / "card.json")
        sources, targets = text8_data.read_split(out / f"{split}.parquet", card).as_lists()
        ids = pq.read_table(out / f"{split}.parquet").column("observation_id").to_pylist()
        assert len(ids) == len(sources) == card["observations"][split]
        rows += zip(ids, sources, targets, strict=True)
    rows.sort(key=lambda row: row[0])
    assert [row[0] for row in rows] == list(range(n))
    assert "".join(ac.decode_symbols(row[1]) for row in rows) == text  # the text, in order
    assert max(len(row[1]) for row in rows) <= 60
    for _, source, target in rows[:40]:
        starts = np.flatnonzero(source == ac.SPACE)[1:]
        for word, ids in zip(
            ac.decode_symbols(source).split(), np.split(target, starts), strict=True
        ):
            assert ids.tolist() == [ids[0]] * (len(word) + 1)
            expected = word if word in known else "<unknown>"
            assert card["vocabulary"][ids[0]] == expected

    again = text8_data.data_step(
        data_files(tmp_path / "again"),
        "embedded",
        vocabulary_bits=6,
        max_chars=60,
        max_characters=100_000,
        progress=False,
    )
    assert again == card
    for split in ac.SPLITS:
        assert pq.read_table(out / f"{split}.parquet").equals(
            pq.read_table(tmp_path / "again" / f"{split}.parquet")
        )


def test_data_step_zip_hand_worked(tmp_path):
    path = write_zip(tmp_path / "text8.zip", text=" the cat sat on the mat the end")
    out = tmp_path / "out"
    card = text8_data.data_step(
        data_files(out), "zip", zip_path=path, vocabulary_bits=2, max_chars=12, progress=False
    )
    assert card["vocabulary"] == ["<eos>", "<unknown>", "the", "cat", "end", "mat"]
    # " the cat sat" (12) | " on the mat" (11) | " the end" (8); 3 -> train 2, valid 0, test 1
    assert card["observations"] == {"train": 2, "valid": 0, "test": 1, "total": 3}
    assert card["source"]["kind"] == "zip" and card["source"]["name"] == text8.TEXT8_URL
    assert card["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert card["source"]["matches_published"] is False
    assert card["words"] == 8 and card["characters"] == 31 and card["coverage"] == 6 / 8
    card = text8_data.read_card(out / "card.json")
    assert text8_data.read_split(out / "valid.parquet", card).as_lists() == ([], [])
    sources, targets = text8_data.read_split(out / "test.parquet", card).as_lists()
    train = text8_data.read_split(out / "train.parquet", card).as_lists()[0]
    texts = sorted(ac.decode_symbols(s) for s in train)
    assert sorted([*texts, ac.decode_symbols(sources[0])]) == [
        " on the mat",
        " the cat sat",
        " the end",
    ]
    assert all(s.dtype == np.int8 for s in sources) and all(t.dtype == np.int32 for t in targets)


def test_data_step_errors(tmp_path):
    with pytest.raises(ValueError, match="needs zip_path"):
        text8_data.data_step(data_files(tmp_path), "zip", progress=False)
    with pytest.raises(ValueError, match="unknown text8 source"):
        text8_data.data_step(data_files(tmp_path), "web", progress=False)
    without_card = {k: v for k, v in data_files(tmp_path).items() if k != "card"}
    with pytest.raises(ValueError, match=r"the path of \['card'\]"):
        text8_data.data_step(without_card, "embedded", progress=False)
    with pytest.raises(FileNotFoundError, match="text8 data step"):
        text8_data.read_split(tmp_path / "train.parquet", CARD)


# a card's sizes: 28 input symbols, a 3-word vocabulary (<eos>, <unknown>, one word)
CARD = {"symbols": [str(i) for i in range(28)], "vocabulary": ["<eos>", "<unknown>", "the"]}


def test_read_split_rejects_inconsistent_files(tmp_path):
    def write(source, target, length):
        table = pa.table(
            {
                "observation_id": pa.array([0], pa.int64()),
                "source": pa.array([source], pa.list_(pa.int8())),
                "target": pa.array([target], pa.list_(pa.int32())),
                "length": pa.array([length], pa.int32()),
            }
        )
        pq.write_table(table, tmp_path / "train.parquet")

    path = tmp_path / "train.parquet"
    write([1, 2], [2, 2], 2)
    assert [a.tolist() for a in text8_data.read_split(path, CARD).as_lists()[0]] == [[1, 2]]
    write([1, 2], [2, 2], 3)
    with pytest.raises(ValueError, match="'length' differs from the lengths of 'source'"):
        text8_data.read_split(path, CARD)
    write([1, 28], [2, 2], 2)
    with pytest.raises(ValueError, match=r"'source' ranges over 1\.\.28, but there are 28"):
        text8_data.read_split(path, CARD)
    write([1, 2], [2, 3], 2)
    with pytest.raises(ValueError, match=r"'target' ranges over 2\.\.3, but there are 3 words"):
        text8_data.read_split(path, CARD)
