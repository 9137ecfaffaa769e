"""The parser keeps no state between parses: threads parsing at once each get
their own comments back."""
import threading

from genelang.compiler import format_file, parse_text

CONV = """# a conv genome
genome c on conv {  # header of c
    adf a          = add sep3x3 pw | h1 h2 h2 h1  # the first ADF
    # above the normal cell
    cell normal    = cat a a | a a a a
    cell reduction = add(a, a)                    # reduces
}  # end of c

# trailing of the conv file
"""

RNN = """genome r on rnn {
    # leading of the state
    state h = tanh(add(x, h[t-1]))  # the only state
    # closing comment of r
}

# one
# two
"""


def test_two_threads_parse_files_with_comments_at_once():
    assert format_file(parse_text(CONV)) == CONV and format_file(parse_text(RNN)) == RNN
    rounds = 300
    barrier = threading.Barrier(2)
    wrong: list[str] = []

    def work(text: str) -> None:
        barrier.wait()
        for _ in range(rounds):
            back = format_file(parse_text(text))
            if back != text:
                wrong.append(back)

    threads = [threading.Thread(target=work, args=(t,)) for t in (CONV, RNN)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not wrong, wrong[0]


def test_comment_lines_count_like_the_lexer():
    # '\r\n' line ends: a comment's line is still its line, and '\r' is not kept
    text = "genome g on rnn {\r\n    state h = tanh(x)  # c\r\n}\r\n"
    gene = parse_text(text).genomes[0].genes[0]
    assert gene.comment == "# c"
