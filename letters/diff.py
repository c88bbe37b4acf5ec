"""What changed between two versions of a letter's text: a word diff for people, a unified line diff for tools.

Lines are matched first; only lines that changed are compared word by word, so a long text costs little and the
word diff never pairs words of unrelated paragraphs. Whitespace is kept as its own token: joining the "equal" and
"delete" pieces gives the old text back, "equal" and "insert" the new one (tested).
"""

import difflib
import re
from dataclasses import dataclass

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Piece:
    op: str  # "equal", "insert" or "delete"
    text: str


def _add(pieces: list[Piece], op: str, text: str) -> None:
    if not text:
        return
    if pieces and pieces[-1].op == op:
        pieces[-1] = Piece(op, pieces[-1].text + text)
    else:
        pieces.append(Piece(op, text))


def _word_pieces(pieces: list[Piece], old: str, new: str) -> None:
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(pieces, "equal", "".join(a[i1:i2]))
        else:
            _add(pieces, "delete", "".join(a[i1:i2]))
            _add(pieces, "insert", "".join(b[j1:j2]))


def word_diff(old: str, new: str) -> list[Piece]:
    """The new text as pieces kept, deleted and inserted (deletions before insertions where words were replaced)."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    pieces: list[Piece] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            _add(pieces, "equal", "".join(a[i1:i2]))
        elif tag == "delete":
            _add(pieces, "delete", "".join(a[i1:i2]))
        elif tag == "insert":
            _add(pieces, "insert", "".join(b[j1:j2]))
        else:
            _word_pieces(pieces, "".join(a[i1:i2]), "".join(b[j1:j2]))
    return pieces


def unified_diff(old: str, new: str, *, old_name: str, new_name: str, context: int = 3) -> str:
    """A unified diff of the lines (as `diff -u` prints it), empty when the texts are the same."""
    lines = difflib.unified_diff(
        old.splitlines(), new.splitlines(), fromfile=old_name, tofile=new_name, lineterm="", n=context
    )
    return "\n".join(lines) + "\n" if old != new else ""


def words_changed(pieces: list[Piece]) -> dict[str, int]:
    """How many words the diff adds and removes (punctuation and whitespace not counted)."""
    counted = {"insert": 0, "delete": 0}
    for piece in pieces:
        if piece.op in counted:
            counted[piece.op] += sum(1 for token in _TOKENS.findall(piece.text) if _WORD.match(token))
    return {"words_added": counted["insert"], "words_removed": counted["delete"]}
