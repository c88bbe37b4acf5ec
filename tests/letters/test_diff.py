"""The diff between two versions: exact word pieces, a unified line diff, and pieces that rebuild both texts."""

from letters.diff import Piece, unified_diff, word_diff, words_changed

OLD = "We ask you to restore access.\n\nSigned, the undersigned.\n"
NEW = "We ask you to restore full access now.\n\nSigned, the undersigned.\nAlso this.\n"


def test_word_diff_marks_only_the_words_that_changed():
    assert word_diff(OLD, NEW) == [
        Piece("equal", "We ask you to restore "),
        Piece("insert", "full "),
        Piece("equal", "access"),
        Piece("insert", " now"),
        Piece("equal", ".\n\nSigned, the undersigned.\n"),
        Piece("insert", "Also this.\n"),
    ]


def test_a_replaced_word_is_a_deletion_then_an_insertion():
    assert word_diff("Restore access today.", "Restore access tomorrow.") == [
        Piece("equal", "Restore access "),
        Piece("delete", "today"),
        Piece("insert", "tomorrow"),
        Piece("equal", "."),
    ]


def test_the_pieces_rebuild_both_texts():
    pieces = word_diff(OLD, NEW)
    assert "".join(p.text for p in pieces if p.op != "insert") == OLD
    assert "".join(p.text for p in pieces if p.op != "delete") == NEW
    assert words_changed(pieces) == {"words_added": 4, "words_removed": 0}


def test_unified_diff_is_what_diff_u_prints():
    assert unified_diff(OLD, NEW, old_name="version 1", new_name="version 2") == (
        "--- version 1\n"
        "+++ version 2\n"
        "@@ -1,3 +1,4 @@\n"
        "-We ask you to restore access.\n"
        "+We ask you to restore full access now.\n"
        " \n"
        " Signed, the undersigned.\n"
        "+Also this.\n"
    )
    assert unified_diff(OLD, OLD, old_name="a", new_name="b") == ""
    assert word_diff(OLD, OLD) == [Piece("equal", OLD)]
