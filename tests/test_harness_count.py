from harness.frontend.count import count_directives


def test_counts_top_level_forms_only():
    text = b'(module (func)) ;; (module)\n(; (module) (; nested ;) ;)\n(assert_return (invoke "(") )'
    assert count_directives(text) == 2


def test_inline_module_counts_once():
    assert count_directives(b'(func) (memory 0) (func (export "f"))') == 1
    assert count_directives(b'(func)\n(assert_return (invoke "f"))') == 2


def test_strings_with_escapes():
    assert count_directives(b'(module quote "(func \\" (")\n(invoke "x")') == 2
