"""Render the dashboard with jinja2 (``templates/dashboard/``).

HTML: autoescape on, so every string from the registry, the results or the logs (versions,
columns, metric names, issue titles) is escaped; links only through
:func:`ml_ci.report.safe.safe_url` (the GitHub server's host). The job summary is markdown,
every untrusted value through :func:`~ml_ci.report.safe.md_code` / ``md_text``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2

    from ml_ci.dashboard.view import Dashboard


def _environment(html: bool) -> jinja2.Environment:
    import jinja2

    from ml_ci.report.render import fmt_num, fmt_pct
    from ml_ci.report.safe import md_code, md_text, plain
    from ml_ci.resources import templates_dir

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir() / "dashboard")),
        autoescape=html,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(num=fmt_num, pct=fmt_pct, code=md_code, md=md_text, plain=plain)
    return env


def render_html(dashboard: Dashboard, server_url: str) -> str:
    from ml_ci.report.safe import safe_url

    def link(url: Any) -> str | None:
        return safe_url(url, server_url)

    return _environment(True).get_template("index.html.j2").render(d=dashboard, link=link)


def render_summary(dashboard: Dashboard) -> str:
    return _environment(False).get_template("summary.md.j2").render(d=dashboard)
