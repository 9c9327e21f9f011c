"""CSL corpus: grammar sizes, sentence indexing, splits and teachers against hand-worked values."""

import json

import numpy as np
import pytest

from rnnatlas.papers.csl.data import (
    COLORS,
    GROUPS,
    OBJECTS,
    POSITIONS,
    CSLGrammar,
    build_corpus,
    corpus_card,
    draw_teachers,
    sentence_table,
)

# Output layout for n=4: slot 0 = object 0..3, position 4..6, color 7..10; slot 1 = +11.
GLASS, ORANGE_OBJECT, LEFT, RED, ORANGE_COLOR = 0, 3, 4, 7, 8


@pytest.mark.parametrize(
    ("n", "center", "one", "two", "concepts", "outputs"),
    [
        (3, False, 516, 266_256, 10, 20),
        (4, False, 688, 473_344, 11, 22),
        (50, False, 8_600, 73_960_000, 57, 114),
        (4, True, 880, 774_400, 11, 22),
    ],
)
def test_sizes_match_papers(n, center, one, two, concepts, outputs):
    grammar = CSLGrammar(n, center=center)
    assert grammar.one_object_count == one
    assert grammar.two_object_count == two
    assert grammar.concepts == concepts
    assert grammar.output_dim == outputs


@pytest.mark.parametrize("n", [3, 4, 17, 50])
def test_construction_counts_follow_hand_formula(n):
    assert CSLGrammar(n).construction_counts == (20 * n, 8 * n, 24 * n, 30 * n, 30 * n, 60 * n)
    # center adds a fourth position word to constructions 3..6
    assert CSLGrammar(n, center=True).construction_counts == (
        20 * n, 8 * n, 32 * n, 40 * n, 40 * n, 80 * n,
    )  # fmt: skip


@pytest.mark.parametrize(("n", "center"), [(3, False), (4, False), (4, True), (50, False)])
def test_enumeration_gives_distinct_encodable_clauses(n, center):
    grammar = CSLGrammar(n, center=center)
    clauses = [grammar.clause(i) for i in range(grammar.one_object_count)]
    assert len({c.words for c in clauses}) == grammar.one_object_count
    for c in clauses:
        grammar.encode(c.words)  # every word is in the vocabulary
        assert c.object in grammar.objects and c.object in c.words
        assert c.color is None or c.color in c.words
        assert c.position is None or c.position in POSITIONS
    assert max(len(c.words) for c in clauses) == 8
    with_center = [c for c in clauses if "center" in c.words]
    assert all(c.position == "middle" for c in with_center)
    assert len(with_center) == (48 * n if center else 0)  # 8n + 10n + 10n + 20n


def test_known_indices_n4():
    grammar = CSLGrammar(4)
    assert grammar.words(0) == ("BEGIN", "this", "is", "a", "glass", "END")
    assert grammar.words(4) == ("BEGIN", "this", "is", "a", "red", "glass", "END")
    assert grammar.words(79) == ("BEGIN", "that", "is", "the", "blue", "orange", "END")
    assert grammar.words(80) == ("BEGIN", "a", "glass", "is", "red", "END")
    # construction 2, local (det=the*4 + object=orange)*4 + color=red = 28
    assert " ".join(grammar.words(108)) == "BEGIN the orange is red END"
    # construction 4 starts at 52n = 208; local ((a*5 + orange)*4 + orange)*3 + left = 33
    assert " ".join(grammar.words(241)) == "BEGIN a orange orange is on the left END"
    assert grammar.clause(241).object == "orange" and grammar.clause(241).color == "orange"
    assert grammar.clause(108).position is None
    last = grammar.clause(687)
    assert last.words == ("on", "the", "middle", "there", "is", "the", "blue", "orange")


def test_two_object_index_n50_is_instant_and_hand_checked():
    grammar = CSLGrammar(50)
    m = 8_600
    # j = 73e6 -> clause(8488) then clause(3200); worked by mixed-radix decoding
    words = grammar.words(m + 73_000_000)
    assert " ".join(words) == (
        "BEGIN on the middle there is the orange xylophone and a blue glass is on the left END"
    )
    first, second = grammar.sentence(m + 73_000_000)
    assert (first.object, first.color, first.position) == ("xylophone", "orange", "middle")
    assert (second.object, second.color, second.position) == ("glass", "blue", "left")
    assert len(grammar.sentence(m + m * m - 1)) == 2
    with pytest.raises(ValueError, match="out of range"):
        grammar.sentence(m + m * m)
    with pytest.raises(ValueError, match="out of range"):
        grammar.clause(m)


def test_vocabulary_and_encoding():
    grammar = CSLGrammar(4)
    assert grammar.vocabulary == (
        "BEGIN", "END", "a", "the", "this", "that", "is", "there", "on", "and",
        "red", "orange", "green", "blue", "left", "right", "middle", "glass", "cup", "bowl",
    )  # fmt: skip
    assert len(CSLGrammar(4, center=True).vocabulary) == 21
    assert len(CSLGrammar(50).vocabulary) == 17 + 49  # "orange" counted once
    tokens = grammar.encode("BEGIN a orange orange is on the left END")
    assert tokens.dtype == np.int32
    assert tokens.tolist() == [0, 2, 11, 11, 6, 8, 3, 14, 1]
    with pytest.raises(ValueError, match="'violin'"):
        grammar.encode(["BEGIN", "the", "violin", "END"])
    with pytest.raises(ValueError, match="'center'"):
        grammar.encode(["center"])


def test_max_length_and_output_layout():
    grammar = CSLGrammar(4)
    assert grammar.max_length == 19
    assert CSLGrammar(50, center=True).max_length == 19
    labels = grammar.output_labels()
    assert len(labels) == 22
    assert labels[GLASS] == (0, "object", "glass")
    assert labels[ORANGE_OBJECT] == (0, "object", "orange")
    assert labels[LEFT] == (0, "position", "left")
    assert labels[ORANGE_COLOR] == (0, "color", "orange")
    assert labels[11] == (1, "object", "glass") and labels[21] == (1, "color", "blue")
    assert grammar.group_slice(1, "position") == slice(15, 18)
    assert [grammar.group_slice(0, g) for g in GROUPS] == [slice(0, 4), slice(4, 7), slice(7, 11)]


@pytest.mark.parametrize("n", [2, 51, 4.0])
def test_bad_object_count_names_range(n):
    with pytest.raises(ValueError, match=r"3 <= n_objects <= 50|\[3, 50\]"):
        CSLGrammar(n)


def test_constants():
    assert len(OBJECTS) == 50 and OBJECTS[:4] == ("glass", "cup", "bowl", "orange")
    assert OBJECTS[38] == "xylophone" and OBJECTS[-1] == "viola"
    assert COLORS == ("red", "orange", "green", "blue")


# ---- splits -----------------------------------------------------------------------------------


def _ids(frame, clauses):
    return set(frame.loc[frame["n_clauses"] == clauses, "sentence_id"])


def test_split_sizes_and_disjointness():
    splits = build_corpus(4, seed=3)
    assert list(splits) == ["train", "validation", "test"]
    sizes = {name: (len(_ids(f, 1)), len(_ids(f, 2))) for name, f in splits.items()}
    assert sizes == {"train": (300, 700), "validation": (80, 200), "test": (300, 700)}
    train, validation, test = splits["train"], splits["validation"], splits["test"]
    assert not _ids(train, 2) & _ids(test, 2)
    assert not _ids(train, 2) & _ids(validation, 2)
    assert not _ids(validation, 2) & _ids(test, 2)
    # 300 + 80 + 300 <= 688: one-object parts are disjoint too at n=4
    assert not _ids(train, 1) & _ids(test, 1) and not _ids(train, 1) & _ids(validation, 1)
    assert train["sentence_id"].between(688, 688 + 688**2 - 1).sum() == 700


def test_n3_one_object_overlap_is_kept():
    splits = build_corpus(3, seed=0)
    overlap = _ids(splits["train"], 1) & _ids(splits["test"], 1)
    assert len(overlap) == 300 + 300 - 516 == 84
    # an overlapping sentence has one teacher, drawn once
    train = splits["train"].set_index("sentence_id")
    test = splits["test"].set_index("sentence_id")
    for i in sorted(overlap)[:10]:
        np.testing.assert_array_equal(train.at[i, "teacher"], test.at[i, "teacher"])


def test_splits_are_deterministic():
    a, b, c = build_corpus(4, seed=7), build_corpus(4, seed=7), build_corpus(4, seed=8)
    for name in a:
        assert a[name]["sentence_id"].tolist() == b[name]["sentence_id"].tolist()
        np.testing.assert_array_equal(np.stack(a[name]["teacher"]), np.stack(b[name]["teacher"]))
    assert a["train"]["sentence_id"].tolist() != c["train"]["sentence_id"].tolist()


def test_split_too_large_is_refused():
    with pytest.raises(ValueError, match="two-object sentences"):
        build_corpus(3, train=(10, 266_000), test=(10, 300), validation=(0, 0))
    with pytest.raises(ValueError, match="one-object sentences"):
        build_corpus(3, train=(500, 10), validation=(80, 10))


def test_frame_columns_describe_the_sentence():
    grammar = CSLGrammar(4)
    frame = build_corpus(4, seed=1)["train"]
    assert frame["sentence_id"].dtype == np.int64
    assert frame["n_clauses"].dtype == np.int8 and frame["length"].dtype == np.int32
    for row in frame.iloc[[0, 299, 300, 999]].itertuples():
        words = grammar.words(row.sentence_id)
        assert row.text == " ".join(words)
        assert row.length == len(words) == len(row.tokens)
        assert list(row.tokens) == grammar.encode(words).tolist()
        clauses = grammar.sentence(row.sentence_id)
        assert row.n_clauses == len(clauses)
        assert (row.object1, row.color1, row.position1) == (
            clauses[0].object, clauses[0].color, clauses[0].position,
        )  # fmt: skip
        if row.n_clauses == 1:
            assert row.object2 is None and row.color2 is None and row.position2 is None
        else:
            assert row.object2 == clauses[1].object
        assert len(row.teacher) == 22 and np.asarray(row.teacher).dtype == np.float32


def test_corpus_card():
    grammar = CSLGrammar(4)
    splits = build_corpus(4, seed=5)
    card = corpus_card(grammar, splits, seed=5, config={"n_objects": 4})
    json.dumps(card)
    assert card["dataset"] == "csl-n4"
    assert (card["one_object_sentences"], card["two_object_sentences"]) == (688, 473_344)
    assert (card["concepts"], card["output_dim"], card["input_dim"]) == (11, 22, 20)
    assert card["max_length"] == 19 and card["seed"] == 5 and card["center"] is False
    assert card["splits"]["validation"] == {"one_object": 80, "two_object": 200, "total": 280}
    assert card["output_labels"][ORANGE_COLOR] == "slot0:color:orange"
    assert card["output_labels"][11] == "slot1:object:glass"
    assert card["config"] == {"n_objects": 4}
    assert card["source"] == "generated: grammar of Juven & Hinaut 2020"
    assert corpus_card(CSLGrammar(4, True), splits, 0, {})["dataset"] == "csl-n4-center"


# ---- teachers ---------------------------------------------------------------------------------


def _teachers(grammar, sentence_id, repeats, seed=0):
    table = sentence_table(grammar, [sentence_id] * repeats)
    return draw_teachers(grammar, grammar.stated_indices(table), np.random.default_rng(seed))


def test_teacher_stated_object_and_color_random_position():
    grammar = CSLGrammar(4)
    teacher = _teachers(grammar, 108, 3000)  # "the orange is red"
    assert teacher.dtype == np.float32 and teacher.shape == (3000, 22)
    assert (teacher[:, 0:4] == [0, 0, 0, 1]).all()  # object orange, not color orange
    assert (teacher[:, 7:11] == [1, 0, 0, 0]).all()  # color red
    positions = teacher[:, 4:7]
    assert (positions.sum(axis=1) == 1).all()
    np.testing.assert_allclose(positions.mean(axis=0), [1 / 3] * 3, atol=0.04)


def test_teacher_polysemous_orange():
    grammar = CSLGrammar(4)
    teacher = _teachers(grammar, 241, 50)  # "a orange orange is on the left"
    assert (np.flatnonzero(teacher[0, :11]) == [ORANGE_OBJECT, LEFT, ORANGE_COLOR]).all()
    assert (teacher[:, :11] == teacher[0, :11]).all()


def test_teacher_second_slot_of_one_object_sentences():
    grammar = CSLGrammar(4)
    teacher = _teachers(grammar, 108, 4000, seed=1)
    second = teacher[:, 11:]
    ones = second.sum(axis=1)
    assert set(ones.tolist()) == {0.0, 3.0}
    filled = second[ones == 3]
    for group, span in zip(GROUPS, (slice(0, 4), slice(4, 7), slice(7, 11)), strict=True):
        assert (filled[:, span].sum(axis=1) == 1).all(), group
    assert abs((ones == 3).mean() - 0.5) < 0.03  # 4000 draws: sd 0.008
    # the random object is uniform over the 4 objects
    np.testing.assert_allclose(filled[:, :4].mean(axis=0), [0.25] * 4, atol=0.04)


def test_teacher_two_object_sentence_states_both_slots():
    grammar = CSLGrammar(4)
    m = grammar.one_object_count
    teacher = _teachers(grammar, m + 108 * m + 241, 200)  # "the orange is red and a orange ..."
    assert (teacher[:, [3, 7, 11 + 3, 11 + 4, 11 + 8]] == 1).all()
    assert (teacher.sum(axis=1) == 6).all()  # plus one random position of slot 0


def test_built_teachers_agree_with_statements():
    grammar = CSLGrammar(5)
    frame = build_corpus(5, seed=2)["train"]
    teacher = np.stack(frame["teacher"])
    stated = grammar.stated_indices(frame)
    for slot in (0, 1):
        for g, group in enumerate(GROUPS):
            part = teacher[:, grammar.group_slice(slot, group)]
            rows = np.flatnonzero(stated[:, slot, g] >= 0)
            assert (part[rows, stated[rows, slot, g]] == 1).all()
            assert (part[rows].sum(axis=1) == 1).all()
    one_object = frame["n_clauses"].to_numpy() == 1
    second_ones = teacher[one_object, grammar.concepts :].sum(axis=1)
    assert set(second_ones.tolist()) == {0.0, 3.0}
    assert 0.4 < (second_ones == 3).mean() < 0.6  # 300 sentences: sd 0.03


def _expected_singles(singles: int, wanted: int) -> float:
    """Expected one-object sentences among `wanted` accepted draws, by dynamic programming over
    the number k already drawn (independent of the sampler): the next accepted sentence is
    one-object with probability q(k) / (q(k) + 1), q(k) = (singles - k) / singles (a repeated
    two-object sentence is negligible among millions)."""
    distribution = np.zeros(wanted + 1)
    distribution[0] = 1.0
    for _ in range(wanted):
        k = np.arange(wanted + 1)
        q = np.clip((singles - k) / singles, 0, None)
        single = q / (q + 1)
        moved = np.zeros_like(distribution)
        moved[1:] += (distribution * single)[:-1]
        moved += distribution * (1 - single)
        distribution = moved
    return float((np.arange(wanted + 1) * distribution).sum())


def test_juven_split_sizes_follow_his_rejection_sampling():
    from rnnatlas.papers.csl.data import CSLGrammar, build_corpus, juven_split_sizes

    center = CSLGrammar(4, center=True)  # 880 one-object sentences
    drawn = np.array([juven_split_sizes(center, seed=seed)["train"][0] for seed in range(300)])
    expected = _expected_singles(880, 1000)
    assert 410 < expected < 425  # about 417 of 1,000, as his script gives
    assert abs(drawn.mean() - expected) < 3 * drawn.std() / np.sqrt(len(drawn))
    sizes = juven_split_sizes(CSLGrammar(4), seed=0)
    assert sum(sizes["train"]) == sum(sizes["test"]) == 1000 and sizes["validation"] == (0, 0)
    assert sizes["train"][0] + sizes["test"][0] <= 688  # test one-object sentences are new
    assert sizes == juven_split_sizes(CSLGrammar(4), seed=0)  # seeded
    splits = build_corpus(4, seed=0, **sizes)
    assert not set(splits["train"]["sentence_id"]) & set(splits["test"]["sentence_id"])
    assert len(splits["validation"]) == 0 and len(splits["test"]) == 1000
    with pytest.raises(ValueError, match="cannot all differ"):
        juven_split_sizes(CSLGrammar(3), 300_000, 1000)
