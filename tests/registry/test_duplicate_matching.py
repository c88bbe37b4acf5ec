from registry.duplicate_matching import PersonRecord, blocking_keys, find_duplicates, naive_duplicates
from registry.labelled import labelled_people


def record(pk, name, emails=(), orgs=None):
    return PersonRecord(id=pk, name=name, email_keys=frozenset(emails), organizations=orgs or {})


def only_match(records):
    [match] = find_duplicates(records)
    return match


def test_nickname_at_the_same_organization_is_found_with_readable_reasons():
    match = only_match(
        [
            record(1, "Katherine Moussouris", ["katherine@lutasecurity.com"], {7: "Luta Security"}),
            record(2, "Katie Moussouris", ["katie@gmail.com"], {7: "Luta Security"}),
        ]
    )
    assert (match.a, match.b) == (1, 2)
    assert match.reasons == (
        "same organization Luta Security",
        "Katherine ≈ Katie (nickname or spelling)",
        "surname identical",
    )
    assert match.score == 1.0


def test_pairs_are_ordered_by_id():
    match = only_match([record(9, "Robert Tables"), record(3, "Bob Tables")])
    assert (match.a, match.b) == (3, 9)


def test_initials_swapped_order_and_accents_are_found():
    assert only_match([record(1, "Katie Moussouris"), record(2, "K. Moussouris")]).reasons[0] == (
        "Katie ≈ K. (initial)"
    )
    assert (
        "same name in swapped order" in only_match([record(1, "Wendell Okonkwo"), record(2, "Okonkwo Wendell")]).reasons
    )
    assert only_match([record(1, "José Muñoz"), record(2, "Jose Munoz")])


def test_confusable_letters_are_found():
    assert only_match([record(1, "Pavel Orlov"), record(2, "Раvеl Оrlоv")])  # Cyrillic Р, а, е, О, о


def test_a_one_letter_surname_typo_is_found_and_explained():
    match = only_match([record(1, "Moses Hartwell", orgs={1: "Acme"}), record(2, "Moses Hartwel", orgs={1: "Acme"})])
    assert "surname hartwell ≈ hartwel (one letter apart)" in match.reasons


def test_the_same_email_address_decides_whatever_the_names():
    match = only_match([record(1, "Sam Rivers", ["sr@example.org"]), record(2, "Samantha R.", ["sr@example.org"])])
    assert match.reasons[0] == "same email address"
    assert match.score == 1.0


def test_similar_names_of_different_people_are_not_matched():
    assert (
        find_duplicates(
            [
                record(1, "Anthony Fowler", ["af@acme.example"], {1: "Acme"}),
                record(2, "Anthony Foley", ["afo@acme.example"], {1: "Acme"}),
                record(3, "Catherine Martin", [], {2: "Other"}),
                record(4, "Kathryn Martinez", [], {3: "Third"}),
                record(5, "Henry Johnson", [], {4: "Four"}),
                record(6, "Hannah Johnson", [], {4: "Four"}),
            ]
        )
        == []
    )


def test_shared_employer_never_makes_a_match_on_its_own():
    assert (
        find_duplicates([record(1, "Alice Zhang", orgs={1: "Nvidia"}), record(2, "Alice Chang", orgs={2: "X"})]) == []
    )


def test_blocking_keys_cover_surname_email_organization_and_swapped_tokens():
    keys = blocking_keys(record(1, "Katie Moussouris", ["k@luta.example"], {7: "Luta"}))
    assert keys == {
        "email:k@luta.example",
        "surname:moussouris",
        "surname4:mous:k",
        "tokens:katherine moussouris",
        "org:7:k",
    }


def test_blocking_loses_nothing_that_comparing_every_pair_finds():
    people = labelled_people(400, seed=3).records
    naive = {(m.a, m.b) for m in naive_duplicates(people)}
    blocked = {(m.a, m.b) for m in find_duplicates(people)}
    assert naive <= blocked
    assert naive  # the sample has duplicates to find


def test_a_chunk_scores_only_its_own_blocks():
    people = [
        record(1, "Katie Moussouris"),
        record(2, "Katherine Moussouris"),
        record(3, "Bob Tables"),
        record(4, "Robert Tables"),
    ]
    only_tables = find_duplicates(people, only_block_keys={"surname:tables"})
    assert [(m.a, m.b) for m in only_tables] == [(3, 4)]
