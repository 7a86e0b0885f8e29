"""The directive splitter: comments, strings, annotations, line numbers, kinds, bad input."""
import pytest

from harness.frontend.splitter import Atom, Lexer, SList, SplitError, Str, split


def kinds(text):
    directives, errors = split(text)
    assert not errors, errors
    return [(d.kind, d.line) for d in directives]


def test_line_comments_and_nested_block_comments_hide_directives():
    text = (
        ";; (module) in a line comment\n"          # 1
        "(; (module)\n"                            # 2
        "   (; nested (component) ;)\n"            # 3
        "   still comment (invoke \"x\") ;)\n"     # 4
        "(component) ;; trailing (module)\n"       # 5
        "(;;)(module)\n"                           # 6: empty block comment, then a module
    )
    assert kinds(text) == [("component", 5), ("module", 6)]


def test_semicolon_inside_atoms_and_comment_markers_in_strings():
    text = '(invoke "a;;b" (str.const "(; not a comment ;)"))\n(invoke "c)")\n'
    directives, errors = split(text)
    assert not errors
    assert [d.kind for d in directives] == ["invoke", "invoke"]
    assert directives[0].node.items[1].text() == "a;;b"
    assert directives[0].node.items[2].items[1].text() == "(; not a comment ;)"
    assert directives[1].node.items[1].text() == "c)"


@pytest.mark.parametrize("literal, data", [
    (r'"plain"', b"plain"),
    (r'"tab\tnl\ncr\rq\"a\'bs\\"', b"tab\tnl\ncr\rq\"a'bs\\"),
    (r'"\00\ff\0A"', b"\x00\xff\x0a"),
    (r'"\u{41}\u{2603}\u{1F370}"', "A\u2603\U0001F370".encode()),
    ('"h\u00f6\u2603"', "h\u00f6\u2603".encode()),  # raw UTF-8 in the source
    (r'"\u{1_F370}"', "\U0001F370".encode()),
])
def test_string_escapes(literal, data):
    kind, value, offset, line = Lexer(literal).next()
    assert (kind, value, offset, line) == ("str", data, 0, 1)


@pytest.mark.parametrize("literal, message", [
    (r'"\q"', "invalid string escape"),
    ('"open', "unterminated string"),
    (r'"\u{110000}"', "bad unicode escape"),
    ('"a\nb"', "newline in string"),
])
def test_bad_strings(literal, message):
    with pytest.raises(SplitError, match=message):
        Lexer(literal).next()


def test_non_utf8_string_is_rejected_only_as_text():
    (d,), errors = split('(register "\\ff")')
    assert not errors
    assert d.node.items[1].data == b"\xff"
    with pytest.raises(SplitError, match="malformed UTF-8"):
        d.node.items[1].text()


def test_annotations_top_level_skipped_inner_kept():
    text = '(@custom "x")\n(module (@name "m") (func))\n(@a (nested (parens)) "s")\n(invoke "f")'
    directives, errors = split(text)
    assert not errors
    assert [(d.kind, d.line) for d in directives] == [("module", 2), ("invoke", 4)]
    inner = directives[0].node.items[1]
    assert isinstance(inner, SList) and inner.annotation
    assert '(@name "m")' in directives[0].source


def test_line_numbers_are_one_based_and_count_comment_and_string_lines():
    text = "\n\n(; a\nb\nc ;)\n  (component\n\n)\n\t(assert_return (invoke \"f\"))\n"
    directives, _ = split(text)
    assert [(d.kind, d.line) for d in directives] == [("component", 6), ("assert_return", 9)]
    invoke = directives[1].node.items[1]
    assert invoke.line == 9 and invoke.items[1].line == 9


def test_directive_kinds():
    text = """
(component $C)
(component definition $D (core module))
(component instance $i $D)
(component instance $j)
(module binary "\\00asm" "\\01\\00\\00\\00")
(component quote "(core module)")
(module definition $m)
(module instance $mi $m)
(register "r" $i)
(invoke "f")
(assert_return (invoke "f"))
(assert_trap (invoke "f") "t")
(assert_exhaustion (invoke "f") "e")
(assert_invalid (component) "i")
(assert_malformed (component quote "x") "m")
(assert_unlinkable (component) "u")
(assert_exception (invoke "f"))
(thread $t (invoke "f"))
(wait $t)
"""
    assert [k for k, _ in kinds(text)] == [
        "component", "module_definition", "module_instance", "module_instance", "module",
        "component", "module_definition", "module_instance", "register", "invoke",
        "assert_return", "assert_trap", "assert_exhaustion", "assert_invalid",
        "assert_malformed", "assert_unlinkable", "assert_exception", "thread", "wait"]


def test_directive_source_is_the_exact_slice():
    text = '  (component $c ;; comment\n  (core module))  (invoke "x")'
    directives, _ = split(text)
    assert directives[0].source == '(component $c ;; comment\n  (core module))'
    assert directives[1].source == '(invoke "x")'


def test_quoted_identifier():
    (d,), errors = split('(invoke $"my inst" "f")')
    assert not errors
    assert d.node.items[1] == Atom("$my inst", 8, 1)


def test_unknown_directive_is_an_error_and_the_rest_goes_on():
    directives, errors = split('(component)\n(frobnicate 1)\n(invoke "f")\n')
    assert [d.kind for d in directives] == ["component", "invoke"]
    assert [(e.line, e.kind) for e in errors] == [(2, "frobnicate")]
    assert "unknown directive" in errors[0].message


def test_missing_close_paren_resynchronises_at_next_column0_paren():
    text = '(component\n  (core module)\n(invoke "f")\n(assert_return (invoke "g"))\n'
    directives, errors = split(text)
    assert [(e.line, e.kind) for e in errors] == [(1, "component")]
    assert "missing ')'" in errors[0].message
    assert [(d.kind, d.line) for d in directives] == [("invoke", 3), ("assert_return", 4)]


def test_extra_close_paren_and_stray_atom():
    directives, errors = split('(component))\n(invoke "f")\nstray\n')
    assert [d.kind for d in directives] == ["component", "invoke"]
    assert [e.line for e in errors] == [1, 3]
    assert "unexpected ')'" in errors[0].message
    assert "unexpected top-level token" in errors[1].message


def test_unterminated_block_comment():
    directives, errors = split('(component)\n(; never closed\n(invoke "f")\n')
    assert [d.kind for d in directives] == ["component"]
    assert [(e.line, e.message) for e in errors] == [(2, "unterminated block comment")]


def test_bad_escape_inside_a_directive_costs_only_that_directive():
    directives, errors = split('(invoke "\\q")\n(invoke "ok")\n')
    assert [d.line for d in directives] == [2]
    assert errors[0].line == 1 and errors[0].kind == "invoke"


def test_tree_shape():
    (d,), _ = split('(assert_return (invoke "f" (u32.const 1)) (str.const "x"))')
    node = d.node
    assert node.keyword(0) == "assert_return"
    inv = node.items[1]
    assert isinstance(inv, SList) and inv.keyword(0) == "invoke"
    assert isinstance(inv.items[1], Str) and inv.items[1].data == b"f"
    assert inv.items[2].keyword(0) == "u32.const" and inv.items[2].keyword(1) == "1"
