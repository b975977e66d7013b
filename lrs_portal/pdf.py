"""Text for fpdf2's built-in fonts, which take Latin-1 only: other characters
become their nearest plain form (curly quotes, dashes), or "?"."""

import unicodedata

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
    }
)


def latin1(text: object) -> str:
    plain = unicodedata.normalize("NFKC", f"{text}").translate(_PLAIN)
    return plain.encode("latin-1", "replace").decode("latin-1")
