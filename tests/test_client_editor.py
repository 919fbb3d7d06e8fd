"""The line editor, the key decoder and column widths: keys in, buffer and cursor out (no terminal)."""

import io

import pyte

from selectchat.client.commands import fold
from selectchat.client.display import TerminalDisplay
from selectchat.client.editor import LineEditor
from selectchat.client.keys import KeyDecoder
from selectchat.client.width import text_width


def typed(editor, data, decoder=None):
    decoder = decoder or KeyDecoder()
    return [editor.handle(key) for key in decoder.feed(data)]


def test_columns_count_wide_and_combining_characters():
    assert text_width("abc") == 3
    assert text_width("日本語") == 6 and text_width("🙂") == 2
    assert text_width("e\u0301") == 1                     # e + combining acute: one column


def test_keys_arrows_home_end_and_a_sequence_cut_by_a_read():
    decoder = KeyDecoder()
    assert decoder.feed(b"a\x1b[D\x1bOH\x1b[4~\x01\x05") == [("text", "a"), "left", "home", "end", "home", "end"]
    assert decoder.feed(b"\x1b[") == [] and decoder.feed(b"C") == ["right"]
    assert decoder.feed("日".encode()[:2]) == [] and decoder.feed("日".encode()[2:]) == [("text", "日")]
    assert decoder.feed(b"\x1b[15~z") == [("text", "z")]  # an unknown key (F5) is ignored whole


def test_a_bare_escape_never_swallows_the_next_key():
    decoder = KeyDecoder()
    assert decoder.feed(b"\x1b") == [] and decoder.pending == "\x1b"
    assert decoder.timeout() == ["escape"]               # the loop's timer: it was the Escape key
    assert decoder.feed(b"\x1bx") == ["escape", ("text", "x")]
    assert decoder.feed(b"\x1b") == [] and decoder.feed(b"q") == ["escape", ("text", "q")]


def test_bracketed_paste_is_text_never_keys():
    decoder = KeyDecoder()
    keys = decoder.feed(b"\x1b[200~line one\r/quit\x1b[D\x1b[2") + decoder.feed(b"01~!")
    assert keys == [("paste", "line one\r/quit\x1b[D"), ("text", "!")]
    editor = LineEditor()
    for key in keys:
        editor.handle(key)
    assert editor.text == "line one /quit[D!"          # one line: a pasted newline sends nothing


def test_cursor_moves_and_edits_in_the_middle():
    editor = LineEditor()
    typed(editor, b"hello world\x1b[D\x1b[D\x1b[DX\x01>\x05<")
    assert editor.text == ">hello woXrld<" and editor.cursor == len(editor.text)
    typed(editor, b"\x1b[H\x1b[3~")                      # Home, Delete
    assert editor.text == "hello woXrld<"
    typed(editor, b"\x1b[C\x1b[C\x15")                   # Ctrl-U erases up to the cursor
    assert (editor.text, editor.cursor) == ("llo woXrld<", 0)
    typed(editor, b"\x05\x17")                            # Ctrl-W: the last word
    assert editor.text == "llo "


def test_combining_marks_move_and_erase_with_their_letter():
    editor = LineEditor()
    editor.insert("cafe\u0301!")
    typed(editor, b"\x1b[D\x1b[D")                       # over "!" then over "é" (two code points)
    assert editor.cursor == 3
    typed(editor, b"\x1b[C\x7f")                         # Backspace erases e and its accent
    assert editor.text == "caf!"


def test_history_up_down_keeps_the_draft_and_never_keeps_a_secret():
    editor = LineEditor()
    for line in (b"one\r", b"two\r"):
        typed(editor, line)
    editor.secret = True
    typed(editor, b"s3cret\r")
    editor.secret = False
    typed(editor, b"dra")
    typed(editor, b"\x1b[A")
    assert editor.text == "two"
    typed(editor, b"\x1b[A\x1b[A")
    assert editor.text == "one"                          # the oldest; Up again does nothing
    typed(editor, b"\x1b[B\x1b[B")
    assert editor.text == "dra"                          # back to what was being typed
    assert "s3cret" not in editor.history


def test_enter_ctrl_d_and_ctrl_l():
    editor = LineEditor()
    assert typed(editor, b"hi\r")[-1] == ("line", "hi") and editor.text == ""
    assert typed(editor, b"\x04") == [("eof", None)]
    assert typed(editor, b"\x0c") == [("repaint", None)]


def test_tab_completes_nicks_and_rooms_and_shows_choices():
    editor = LineEditor()
    typed(editor, b"bo")
    assert editor.complete(["Bob", "alice", "#lobby"], fold) == ["Bob"]
    assert editor.text == "Bob: "                        # a nick at the start: "Bob: "
    typed(editor, b"see #lo")
    editor.complete(["Bob", "#lobby", "#lounge"], fold)
    assert editor.text == "Bob: see #lo"                 # two rooms: common prefix, choices shown
    typed(editor, b"b")
    editor.complete(["#lobby", "#lounge"], fold)
    assert editor.text == "Bob: see #lobby "
    assert editor.complete(["x"], fold) == []


# --- the input row, drawn on an emulated screen ---------------------------------------

class FakeTerminal(io.StringIO):
    def fileno(self):
        raise ValueError("not a real terminal")


def drawn(columns, prompt, text, cursor):
    out = FakeTerminal()
    display = TerminalDisplay(stdout=out, colour=False)
    display.columns, display.rows = columns, 10
    display.set_prompt(prompt)
    display.draw_input(text, cursor)
    screen = pyte.Screen(columns, 10)
    pyte.Stream(screen).feed(out.getvalue())
    assert screen.cursor.y == 0 and not screen.display[1].strip(), "the typed line wrapped"
    return screen.display[0].rstrip(), screen.cursor.x


def test_a_long_line_scrolls_sideways_on_one_row_with_the_cursor_in_view():
    text = "".join(f"{i:02d}x" for i in range(30))
    row, x = drawn(40, "#lobby> ", text, len(text))
    assert row.startswith("#lobby> <") and row.endswith(text[-29:]) and x == 38
    row, x = drawn(40, "#lobby> ", text, 0)           # Home: the start shows, ">" marks more
    assert row == "#lobby> " + text[:30] + ">" and x == 8


def test_wide_characters_are_placed_by_columns():
    text = "日本語" * 10                                   # 60 columns
    row, x = drawn(40, "> ", text, len(text))
    assert row.startswith("> <") and row.endswith("語") and x <= 39
    row, x = drawn(40, "> ", "日本", 1)                    # cursor after 日: column 2 + 2
    assert row == "> 日本" and x == 4


def test_a_huge_paste_still_shows_its_end_at_the_cursor():
    text = "x" * 200_000 + "THE END"           # (scrolling one character at a time would take minutes)
    row, x = drawn(40, "> ", text, len(text))
    assert row.startswith("> <") and row.endswith("xTHE END") and x == 38
    row, x = drawn(40, "> ", text, 3)
    assert row == "> " + "x" * 36 + ">" and x == 5


def test_random_keys_never_break_the_editor_or_wrap_the_row():
    """Bytes a clumsy hand (or a cat on the keyboard) sends: the row stays one row, the cursor on it."""
    import random
    alphabet = [b"a", b" ", "日".encode(), "e\u0301".encode(), "🙂".encode(), b"\x1b", b"\x1b[", b"\x1b[D",
                b"\x1b[C", b"\x1b[H", b"\x1b[F", b"\x1b[3~", b"\x1b[A", b"\x1b[B", b"\x7f", b"\x01", b"\x05",
                b"\x15", b"\x17", b"\x0b", b"\r", b"\t", b"\x1b[200~", b"\x1b[201~", "日".encode()[:1], b"\xff"]
    for seed in range(20):
        chance = random.Random(seed)
        decoder, editor = KeyDecoder(), LineEditor()
        for _ in range(200):
            for key in decoder.feed(b"".join(chance.choice(alphabet) for _ in range(chance.randrange(1, 6)))):
                if editor.handle(key) == ("complete", None):
                    editor.complete(["alice", "#lobby"])
            if chance.random() < 0.1:
                for key in decoder.timeout():
                    editor.handle(key)
            assert 0 <= editor.cursor <= len(editor.text)
        columns = chance.choice([12, 40, 80])
        row, x = drawn(columns, "#lobby> ", editor.text, editor.cursor)
        assert x < columns
