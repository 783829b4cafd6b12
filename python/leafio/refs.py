"""Codec references in text, the syntax the C library parses:

    reference := name [ "(" [ option { "," option } ] ")" ]
    option    := key "=" value
    value     := reference | quoted string
    name, key := one or more of [A-Za-z0-9_.+-]

``parse`` gives a :class:`Reference`; ``str()`` of one is its canonical text
(options in the order given, ``", "`` between them, no empty parentheses),
which is what the C library writes into compressed records and manifests.
"""

from .errors import LeafioError

__all__ = ["Reference", "parse"]

_MAX_DEPTH = 32


class Reference:
    """A parsed codec reference: ``name`` and ``options`` (key -> Reference).

    A quoted option value is a Reference with ``quoted`` set and the
    unquoted text as its name."""

    __slots__ = ("name", "options", "quoted")

    def __init__(self, name, options=None, quoted=False):
        self.name = name
        self.options = dict(options or {})
        self.quoted = quoted

    def __str__(self):
        if self.quoted and _needs_quotes(self.name):
            escaped = self.name.replace("\\", "\\\\").replace("'", "\\'")
            text = "'" + escaped + "'"
        else:
            text = self.name
        if self.options:
            text += "(" + ", ".join(f"{k}={v}" for k, v in self.options.items()) + ")"
        return text

    def __repr__(self):
        return f"Reference({str(self)!r})"

    def __eq__(self, other):
        return isinstance(other, Reference) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))

    def option_text(self):
        """The options as a dict of text: what a codec module's ``options`` is."""
        return {k: (v.name if v.quoted or not v.options else str(v))
                for k, v in self.options.items()}


def _is_word_char(c):
    return c.isascii() and (c.isalnum() or c in "_.+-")


def _needs_quotes(s):
    return s == "" or not all(_is_word_char(c) for c in s)


class _Parser:
    def __init__(self, text):
        self.text = text
        self.pos = 0

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def fail(self, expected):
        if self.pos >= len(self.text):
            raise LeafioError(f"codec reference '{self.text}': expected {expected} at the end "
                              f"(position {self.pos})")
        raise LeafioError(f"codec reference '{self.text}': expected {expected} at position "
                          f"{self.pos}, found '{self.text[self.pos]}'")

    def skip_space(self):
        while self.peek() in (" ", "\t", "\n", "\r", "\f", "\v") and self.peek():
            self.pos += 1

    def word(self, what):
        start = self.pos
        while self.peek() and _is_word_char(self.peek()):
            self.pos += 1
        if self.pos == start:
            self.fail(what)
        return self.text[start:self.pos]

    def quoted(self):
        quote = self.peek()
        self.pos += 1
        out = []
        while self.peek() != quote:
            if not self.peek():
                self.fail("a closing quote")
            if self.peek() == "\\" and self.pos + 1 < len(self.text):
                self.pos += 1
            out.append(self.peek())
            self.pos += 1
        self.pos += 1
        return Reference("".join(out), quoted=True)

    def options(self, ref, depth):
        self.pos += 1  # '('
        self.skip_space()
        if self.peek() == ")":
            self.pos += 1
            return
        while True:
            self.skip_space()
            key = self.word("an option name")
            if key in ref.options:
                self.pos -= len(key)
                self.fail("each option once")
            self.skip_space()
            if self.peek() != "=":
                self.fail("'=' after the option name")
            self.pos += 1
            self.skip_space()
            if self.peek() in ("'", '"'):
                ref.options[key] = self.quoted()
            else:
                ref.options[key] = self.reference(depth + 1)
            self.skip_space()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == ")":
                self.pos += 1
                return
            self.fail("',' or ')'")

    def reference(self, depth):
        if depth > _MAX_DEPTH:
            self.fail("less nesting")
        self.skip_space()
        ref = Reference(self.word("a codec name" if depth == 0 else "a value"))
        self.skip_space()
        if self.peek() == "(":
            self.options(ref, depth)
        return ref


def parse(text):
    """The Reference that ``text`` spells (a Reference is returned as is)."""
    if isinstance(text, Reference):
        return text
    if not isinstance(text, str):
        raise LeafioError(f"a codec reference is text, found {type(text).__name__}")
    parser = _Parser(text)
    ref = parser.reference(0)
    parser.skip_space()
    if parser.pos != len(text):
        parser.fail("the end of the reference")
    return ref
