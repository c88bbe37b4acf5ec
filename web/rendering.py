"""Letter bodies: Markdown rendered, then sanitized with nh3 so nothing executable survives."""

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {"p", "br", "strong", "em", "blockquote", "ol", "ul", "li", "h2", "h3", "h4", "a", "code", "pre", "hr"}


def markdown_to_safe_html(text: str) -> SafeString:
    html = markdown.markdown(text, extensions=["sane_lists"], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}}, url_schemes={"https", "mailto"})
    return mark_safe(clean)  # noqa: S308 - sanitized by nh3 just above
