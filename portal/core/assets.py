"""Static files under fingerprinted URLs, cached by browsers for a year.

Every file in `static/` gets a second name with a hash of its content before the
last suffix: `css/portal.css` is also `css/portal.3f9c2a71b0de.css`. Templates
ask for the URL with `{{ static_url('css/portal.css') }}`, so a page always names
the content it was rendered with; a changed file gets a new URL, so browsers may
keep the old one for a year (`immutable`) and never revalidate it. The plain
name keeps working with a short cache (for links from outside the pages); a hash
that is not the current one is a 404, never a stale or a wrong file.

The names are computed once, when the app starts (a changed file needs a
restart to get its new URL, as in production, where files change only with a
release). Text files are compressed once, on their first request, with brotli
at its best quality (or gzip, for a browser without brotli) and kept in memory:
the whole directory is about 100 KB, a phone's first visit downloads a quarter
of it, and no request pays for compressing it again.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import brotli
from litestar import Request, Response, route
from litestar.enums import HttpMethod
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

HASH_LENGTH = 12
IMMUTABLE = "public, max-age=31536000, immutable"
SHORT = "public, max-age=3600"
MINIMUM_SIZE = 1024  # smaller files are sent as they are (as app.py's CompressionConfig)
TEXT_TYPES = {".css": "text/css", ".js": "text/javascript", ".txt": "text/plain",
              ".md": "text/markdown", ".svg": "image/svg+xml", ".json": "application/json"}


@dataclass
class StaticFile:
    """One file's bytes, type and (made on first use) compressed forms."""

    path: Path
    body: bytes
    media_type: str
    compressible: bool
    encoded: dict[str, bytes] = field(default_factory=dict)

    def encoded_as(self, coding: str) -> bytes:
        """The body compressed with `coding` ("br" or "gzip"), made once."""
        if coding not in self.encoded:
            self.encoded[coding] = (brotli.compress(self.body, quality=11) if coding == "br"
                                    else gzip.compress(self.body, compresslevel=9, mtime=0))
        return self.encoded[coding]


def accepted_coding(accept_encoding: str) -> str | None:
    """"br", "gzip" or None from an Accept-Encoding header (a coding with q=0 is refused)."""
    offered = set()
    for item in accept_encoding.lower().split(","):
        name, _, params = item.strip().partition(";")
        if params.replace(" ", "") in {"q=0", "q=0.0", "q=0.00", "q=0.000"}:
            continue
        offered.add(name.strip())
    for coding in ("br", "gzip"):
        if coding in offered:
            return coding
    return None


def _media_type(path: Path) -> str:
    kind = TEXT_TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return kind or "application/octet-stream"  # Litestar adds the charset to text/*


def fingerprinted_name(path: str, content: bytes) -> str:
    """`"css/portal.css"`, its bytes → `"css/portal.<12 hex digits of SHA-256>.css"`.

    The hash goes before the last suffix so the name keeps its type
    (`vendor/htmx-2.0.11.min.js` → `vendor/htmx-2.0.11.min.<hash>.js`)."""
    digest = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    pure = PurePosixPath(path)
    name = f"{pure.stem}.{digest}{pure.suffix}" if pure.suffix else f"{pure.name}.{digest}"
    return str(pure.with_name(name))


class Assets:
    """The files of one static directory and their fingerprinted names.

    `url()` is what templates use; `resolve()` is what the static route serves.
    Raises `OSError` at construction if the directory cannot be read."""

    def __init__(self, directory: Path, prefix: str = "/static/") -> None:
        self.directory = directory.resolve()
        self.prefix = prefix
        self._files: dict[str, StaticFile] = {}  # plain name -> file
        self._urls: dict[str, str] = {}  # plain name -> fingerprinted URL
        self._fingerprinted: dict[str, str] = {}  # fingerprinted name -> plain name
        for file in sorted(self.directory.rglob("*")):
            relative = file.relative_to(self.directory)
            if not file.is_file() or any(part.startswith(".") for part in relative.parts):
                continue
            plain = relative.as_posix()
            body = file.read_bytes()
            fingerprinted = fingerprinted_name(plain, body)
            media_type = _media_type(file)
            self._files[plain] = StaticFile(
                file, body, media_type, len(body) >= MINIMUM_SIZE and (
                    media_type.startswith("text/") or "json" in media_type or "svg" in media_type))
            self._fingerprinted[fingerprinted] = plain
            self._urls[plain] = prefix + fingerprinted

    def url(self, path: str) -> str:
        """The fingerprinted URL of `path` (relative to the static directory, e.g.
        `"css/portal.css"` → `"/static/css/portal.<hash>.css"`).

        Raises `LookupError` for a file that does not exist: a page that names a
        missing file fails in its tests instead of linking to a 404."""
        try:
            return self._urls[path]
        except KeyError:
            raise LookupError(f"no static file {path!r} in {self.directory}") from None

    def resolve(self, name: str) -> tuple[StaticFile, bool] | None:
        """The file a request for `name` (the path after the prefix) gets, and whether
        it may be cached for good (a current fingerprinted name); None → 404."""
        if name in self._fingerprinted:
            return self._files[self._fingerprinted[name]], True
        if name in self._files:
            return self._files[name], False
        return None


@route("/static/{file_path:path}", http_method=[HttpMethod.GET, HttpMethod.HEAD],
       name="static", include_in_schema=False, sync_to_thread=False)
def static_file(request: Request, file_path: FromPath[str]) -> Response:
    """A static file by its fingerprinted name (cached for a year) or its plain name
    (cached for an hour), compressed as the browser accepts; anything else is the
    plain 404 page. (app.py leaves /static/ out of the compression middleware.)"""
    found = request.app.state.assets.resolve(file_path.lstrip("/"))
    if found is None:
        raise NotFoundException()
    file, immutable = found
    headers = {"cache-control": IMMUTABLE if immutable else SHORT}
    body = file.body
    if file.compressible:
        headers["vary"] = "Accept-Encoding"
        coding = accepted_coding(request.headers.get("accept-encoding", ""))
        if coding is not None:
            body = file.encoded_as(coding)
            headers["content-encoding"] = coding
    return Response(body, media_type=file.media_type, headers=headers)


route_handlers = [static_file]
