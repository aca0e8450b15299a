"""The staff and oversight pages: server-rendered (Jinja2), every asset served locally."""

from matchgate.web.pages import install

__all__ = ["install"]
