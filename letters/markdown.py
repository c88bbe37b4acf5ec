"""Letter bodies: Markdown checked before it is stored, and rendered then sanitized with nh3 when it is shown.

`markdown_problems` refuses what an author should never send (raw HTML that executes or embeds, script links);
`markdown_to_safe_html` is the second line of defence and would strip them anyway. Both read the HTML that
Python-Markdown makes of the text, so a `<script>` inside a code span or block (shown as text) is not a problem.
"""

import re
from html.parser import HTMLParser

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {"p", "br", "strong", "em", "blockquote", "ol", "ul", "li", "h2", "h3", "h4", "a", "code", "pre", "hr"}
# Raw HTML that runs code, loads other documents or posts data: refused in a letter's text.
FORBIDDEN_TAGS = ("script", "iframe", "frame", "frameset", "style", "object", "embed", "applet", "form", "base", "meta")
URL_ATTRIBUTES = frozenset({"href", "src", "action", "formaction", "data", "xlink:href", "poster", "background"})
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")
# Browsers ignore ASCII whitespace and control characters inside a URL's scheme ("java\tscript:").
_IGNORED_IN_SCHEME = re.compile(r"[\x00-\x20\x7f]+")


def _render(text: str) -> str:
    return markdown.markdown(text, extensions=["sane_lists"], output_format="html")


def markdown_to_safe_html(text: str) -> SafeString:
    clean = nh3.clean(
        _render(text), tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, url_schemes={"https", "mailto"}
    )
    return mark_safe(clean)  # noqa: S308 - sanitized by nh3 just above


class _ProblemFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.script_link = False
        self.handler = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.tags.add(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.handler = True
            elif name in URL_ATTRIBUTES and value is not None:
                scheme = _IGNORED_IN_SCHEME.sub("", value).lower()
                if scheme.startswith(SCRIPT_SCHEMES):
                    self.script_link = True

    handle_startendtag = handle_starttag


def markdown_problems(text: str) -> list[str]:
    """Why this Markdown cannot be a letter's text (empty when it can), in a stable order."""
    finder = _ProblemFinder()
    finder.feed(_render(text))
    finder.close()
    problems = [f"Raw HTML <{tag}> is not allowed in the text." for tag in FORBIDDEN_TAGS if tag in finder.tags]
    if finder.handler:
        problems.append("HTML event handlers (on… attributes) are not allowed in the text.")
    if finder.script_link:
        problems.append("Links must not use javascript:, vbscript: or data: URLs.")
    return problems
