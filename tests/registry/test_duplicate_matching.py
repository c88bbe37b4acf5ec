import numpy as np

from registry.dedup.blocking import MAX_FINE, block_positions
from registry.dedup.levels import Frequencies, pair_levels, pair_weight, pair_weights
from registry.dedup.matching import compared_pairs
from registry.dedup.weights import TRAINED
from registry.duplicate_matching import (
    PersonRecord,
    block_map,
    blocking_keys,
    find_duplicates,
    naive_duplicates,
    person_duplicates,
)
from registry.labelled import labelled_people


def record(pk, name, emails=(), orgs=None, **kw):
    return PersonRecord(id=pk, name=name, email_keys=frozenset(emails), organizations=orgs or {}, **kw)


def only_match(records):
    [match] = find_duplicates(records)
    return match


def test_nickname_at_the_same_organization_is_found_with_each_piece_of_evidence_and_its_weight():
    match = only_match(
        [
            record(1, "Katherine Moussouris", ["katherine@lutasecurity.com"], {7: "Luta Security"}),
            record(2, "Katie Moussouris", ["katie@gmail.com"], {7: "Luta Security"}),
        ]
    )
    assert (match.a, match.b) == (1, 2)
    assert match.reasons == (
        "given name katherine ≈ katie (nickname) (+5.6)",
        "surname moussouris identical (+7.0, of which -0.7 for how common the surname is)",
        "same organization Luta Security (+6.2, of which -0.3 for how common the organization is)",
        "prior -10.9: 0.27 duplicates a person among 1,000 people (the fewest it counts)",
        "total +18.7 (threshold +10.4: posterior odds of -0.5 less the prior)",
    )
    assert match.weight == 1871
    assert 0.99 < match.score < 0.999  # the match probability from the total and the prior


def test_pairs_are_ordered_by_id():
    match = only_match([record(9, "Robert Tables"), record(3, "Robert Tabels")])
    assert (match.a, match.b) == (3, 9)


def test_initials_swapped_order_accents_and_spaces_are_found():
    assert only_match([record(1, "Katie Moussouris"), record(2, "K. Moussouris")]).reasons[0] == (
        "given name katie ≈ k (initial) (+6.6)"
    )
    assert only_match([record(1, "Wendell Okonkwo"), record(2, "Okonkwo Wendell")]).reasons[:2] == (
        "name (swapped order) wendell identical (+7.8)",
        "name (swapped order) okonkwo identical (+7.8)",
    )
    assert only_match([record(1, "José Muñoz"), record(2, "Jose Munoz")])
    assert (
        only_match([record(1, "William Smith"), record(2, "Wil Liam Smith")])
        .reasons[0]
        .startswith("same name, spaced differently")
    )


def test_confusable_letters_are_found():
    assert only_match([record(1, "Pavel Orlov"), record(2, "Раvеl Оrlоv")])  # Cyrillic Р, а, е, О, о


def test_typos_are_scored_before_any_nickname_canonicalization():
    match = only_match([record(1, "Nathan Brown"), record(2, "Nathsan Brown")])  # nathan is also nathaniel's
    assert match.reasons[0] == "given name nathan ≈ nathsan (one letter apart) (+7.1)"


def test_surname_typos_anywhere_are_compared_and_explained():
    for a, b in [
        ("Moses Hartwell", "Moses Hartwel"),
        ("Ivan Bralic", "Ivan Brhalic"),
        ("Anne Mccarthy", "Anne Mccrathy"),
    ]:
        match = only_match([record(1, a, orgs={1: "Acme"}), record(2, b, orgs={1: "Acme"})])
        assert "one letter apart" in match.reasons[1]


def test_the_same_email_address_decides_whatever_the_names():
    match = only_match([record(1, "Sam Rivers", ["sr@example.org"]), record(2, "Samantha R.", ["sr@example.org"])])
    assert match.reasons[0] == "same email address (+20.0)"
    assert match.score > 0.999


def test_similar_names_of_different_people_at_other_organizations_are_not_matched():
    assert (
        find_duplicates(
            [
                record(1, "Anthony Fowler", ["af@acme.example"], {1: "Acme"}),
                record(2, "Anthony Foley", ["afo@other.example"], {2: "Other"}),
                record(3, "Catherine Martin", [], {2: "Other"}),
                record(4, "Kathryn Martinez", [], {3: "Third"}),
                record(5, "Henry Johnson", [], {4: "Four"}),
                record(6, "Hannah Johnson", [], {4: "Four"}),
            ]
        )
        == []
    )


def test_a_shared_employer_never_makes_a_match_on_its_own():
    assert (
        find_duplicates([record(1, "Alice Zhang", orgs={1: "Nvidia"}), record(2, "Alice Moore", orgs={1: "Nvidia"})])
        == []
    )
    assert (
        find_duplicates([record(1, "Alice Zhang", orgs={1: "Nvidia"}), record(2, "Alice Chang", orgs={2: "X"})]) == []
    )


def test_a_missing_given_name_is_neutral_not_a_match():
    assert find_duplicates([record(1, "Smith"), record(2, "Smith"), record(3, "John Smith")]) == []


def test_a_typo_in_the_organization_text_is_evidence_for_not_a_veto():
    match = only_match(
        [record(1, "Ada Lovelace", orgs={1: "Luta Security"}), record(2, "Ada Lovelace", orgs={2: "Luta Securty"})]
    )
    assert match.reasons[2] == "organization Luta Security ≈ Luta Securty (similar names) (+6.4)"


def test_different_organization_text_is_weak_evidence_but_two_reviewed_organizations_veto():
    unreviewed = [
        record(1, "Ada Lovelace", ["ada@luta.example"], orgs={1: "Luta Security"}),
        record(2, "Ada Lovelace", ["ada.l@luta.example"], orgs={2: "Acme"}),
    ]
    assert only_match(unreviewed).reasons[2:] == (
        "different organization text Luta Security / Acme (weak evidence) (-4.8)",
        "same email domain luta.example (+5.2)",
        "prior -10.9: 0.27 duplicates a person among 1,000 people (the fewest it counts)",
        "total +14.1 (threshold +10.4: posterior odds of -0.5 less the prior)",
    )
    reviewed = [
        record(1, "Ada Lovelace", ["ada@luta.example"], orgs={1: "Luta Security"}, reviewed=frozenset({1})),
        record(2, "Ada Lovelace", ["ada.l@luta.example"], orgs={2: "Acme"}, reviewed=frozenset({2})),
    ]
    assert find_duplicates(reviewed) == []


def test_different_verified_domains_veto():
    people = [
        record(1, "Ada Lovelace", ["ada@luta.example"], verified_domains=frozenset({"luta.example"})),
        record(2, "Ada Lovelace", ["ada@acme.example"], verified_domains=frozenset({"acme.example"})),
    ]
    assert find_duplicates(people) == []
    assert find_duplicates(
        [record(1, "Ada Lovelace", ["ada@luta.example"]), record(2, "Ada Lovelace", ["ada@acme.example"])]
    )


def test_an_acronym_of_the_organization_is_evidence():
    match = only_match(
        [record(1, "Ada Lovelace", orgs={1: "University of Toronto"}), record(2, "Ada Lovelase", orgs={2: "UofT"})]
    )
    assert match.reasons[2] == "organization University of Toronto ≈ UofT (acronym) (+6.4)"


def test_an_alias_of_the_organization_is_compared_too():
    people = [
        record(1, "Ada Lovelace", orgs={1: "Acme Corporation"}, aliases={1: ("Roadrunner Works",)}),
        record(2, "Ada Lovelace", orgs={2: "Roadrunner Works Ltd"}),
    ]
    assert "similar names" in only_match(people).reasons[2]


def test_blocking_keys_cover_sound_swapped_tokens_joined_name_email_and_organization_each_with_finer_keys():
    keys = blocking_keys(record(1, "Katie Moussouris", ["katie.m@luta.example"], {7: "Luta"}))
    assert keys == {
        "email:katie.m@luta.example",
        "local:katiem",
        "sound:MSRS:k",
        "sound:MSRS:k+KT",
        "sound:KT:m",
        "sound:KT:m+MSRS",
        "token:KT",
        "token:KT+7",
        "token:MSRS",
        "token:MSRS+7",
        "surname:moussouris",
        "surname:moussouris+7",
        "tail:katie:ris",
        "tail:katie:ris+MSRS",
        "joined:katiemoussouris",
        "joined:katiemoussouris+7",
        "start:ka:mo",
        "start:ka:mo+sus",
        "start:ka:mo+gti",
        "org:7:k",
        "org:7:k+KT",
        "org-sound:7:MSRS",
        "org-start:7:mou",
        *(f"del:{s}" for s in ("moussouris", "oussouris", "mussouris", "mossouris", "mousouris", "moussuris")),
        *(f"del:{s}" for s in ("moussoris", "moussouis", "moussours", "moussouri")),
    }
    assert blocking_keys(record(2, "Moussouris")) >= {"lone:MSRS", "token:MSRS", "surname:moussouris"}


def test_a_typo_in_each_name_and_lone_surnames_still_meet_in_a_block():
    blocks = block_map(
        [
            record(1, "Luca Mccadrthy"),
            record(2, "Lucas Mccarthy"),
            record(3, "Matthews"),
            record(4, "Matthews"),
            *(record(n, f"Person{n} Matthews") for n in range(5, 60)),  # "matthews" too common for its own block
        ]
    )
    assert {1, 2} <= {m.id for m in blocks["start:lu:mc"]}
    assert {m.id for m in blocks["lone:M0S"]} == {3, 4}


def test_a_common_key_gives_way_to_its_finer_keys_so_work_stays_linear():
    people = [record(i, f"Ann Smith{'x' * (i % 3)}", orgs={i % 7 + 1: f"Org {i % 7}"}) for i in range(1, 400)]
    blocks = block_map(people)
    assert max(len(block) for block in blocks.values()) <= MAX_FINE
    assert "sound:SM0:a" not in blocks and "surname:smith" not in blocks  # 266 and 133 people share them
    assert {m.id for m in blocks["surname:smith+1"]} == {i for i in range(1, 400) if i % 3 == 0 and i % 7 == 0}
    # Two Ann Smiths at the same organization still meet; at different ones they are not compared.
    assert any({21, 42} <= {m.id for m in block} for block in blocks.values())
    assert not any({21, 24} <= {m.id for m in block} for block in blocks.values())


def test_block_scoring_with_arrays_gives_exactly_the_one_by_one_weights():
    people = labelled_people(600, seed=5).records
    freq = Frequencies(people)
    left, right, _shared = compared_pairs(people, block_positions(people))
    totals = pair_weights(people, left, right, TRAINED, freq)
    expected = [
        pair_weight(pair_levels(people[i], people[j], TRAINED, freq), TRAINED) for i, j in zip(left, right, strict=True)
    ]
    assert len(expected) > 1000
    assert np.array_equal(totals, np.array(expected))


def test_blocking_finds_nearly_everything_comparing_every_pair_finds():
    people = labelled_people(400, seed=3).records
    naive = {(m.a, m.b) for m in naive_duplicates(people)}
    blocked = {(m.a, m.b) for m in find_duplicates(people)}
    assert len(naive & blocked) >= 0.98 * len(naive)
    assert blocked <= naive  # the same scoring: blocking only leaves pairs out
    assert len(naive) > 50


def test_chunks_together_find_what_the_whole_scan_finds_and_each_only_its_own_blocks():
    people = labelled_people(500, seed=9).records
    whole = {(m.a, m.b) for m in find_duplicates(people)}
    chunks = [{(m.a, m.b) for m in find_duplicates(people, chunk=(n, 4))} for n in range(4)]
    assert set().union(*chunks) == whole
    assert all(0 < len(found) < len(whole) for found in chunks)


def test_one_persons_check_finds_exactly_that_persons_pairs_of_the_whole_scan():
    people = labelled_people(500, seed=9).records
    whole = find_duplicates(people)
    for person in people[:120]:
        expected = [m for m in whole if person.id in (m.a, m.b)]
        assert sorted(person_duplicates(person.id, people), key=lambda m: (m.a, m.b)) == sorted(
            expected, key=lambda m: (m.a, m.b)
        )
