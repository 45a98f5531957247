"""Compressed pages: brotli for browsers that take it, gzip for everything else.

Pages are made per request, so compression is paid on every one: brotli at quality 4 makes a page about a
tenth smaller than gzip's default level for less work, which is what a slow link wants; gzip at level 3 (the
fastest of zlib's levels that still compresses well) serves clients without brotli. Static files arrive
already compressed (portal.web.static) and pass through untouched.
"""

from __future__ import annotations

import zlib

import brotli
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MINIMUM_SIZE = 500  # below this the encoding's own overhead eats the saving
BROTLI_QUALITY = 4
GZIP_LEVEL = 3
COMPRESSIBLE_TYPES = ("text/", "application/json", "application/javascript", "image/svg+xml")


def preferred_encoding(accept_encoding: str) -> str | None:
    """"br" or "gzip" if the client accepts it (a q=0 refuses it), brotli first; None for neither."""
    accepted = set()
    for part in accept_encoding.lower().split(","):
        name, _, params = part.partition(";")
        quality = params.strip().removeprefix("q=")
        if quality and _is_zero(quality):
            continue
        accepted.add(name.strip())
    for encoding in ("br", "gzip"):
        if encoding in accepted:
            return encoding
    return None


def _is_zero(quality: str) -> bool:
    try:
        return float(quality) == 0
    except ValueError:
        return False


def compress(body: bytes, encoding: str) -> bytes:
    if encoding == "br":
        compressed: bytes = brotli.compress(body, quality=BROTLI_QUALITY)  # brotli has no type hints
        return compressed
    return zlib.compress(body, GZIP_LEVEL, wbits=31)  # wbits=31: the gzip wrapper


class CompressionMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        encoding = preferred_encoding(Headers(scope=scope).get("accept-encoding", ""))
        await _CompressingSender(send, encoding).run(self.app, scope, receive)


class _CompressingSender:
    """Holds the response start until the first body message shows whether the body is worth compressing.

    A whole body (the usual Response) is compressed in one call; a streamed one (a CSV download) chunk by
    chunk, flushed each time so a slow stream still reaches the client as it goes.
    """

    def __init__(self, send: Send, encoding: str | None) -> None:
        self.send = send
        self.encoding = encoding
        self.start: Message | None = None
        self.streamer: _Streamer | None = None
        self.passthrough = False

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive) -> None:
        await app(scope, receive, self.on_message)

    async def on_message(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = Headers(raw=message["headers"])
            content_type = headers.get("content-type", "")
            self.passthrough = "content-encoding" in headers or not content_type.startswith(COMPRESSIBLE_TYPES)
            if self.passthrough:
                await self.send(message)
            else:
                self.start = message
            return
        if message["type"] != "http.response.body" or self.passthrough:
            await self.send(message)
            return
        if self.streamer is not None:
            await self.streamer.send_chunk(message)
        elif message.get("more_body", False):
            await self._start_stream(message)
        else:
            await self._send_whole(message)

    async def _send_whole(self, message: Message) -> None:
        assert self.start is not None
        body: bytes = message.get("body", b"")
        headers = MutableHeaders(raw=self.start["headers"])
        if len(body) >= MINIMUM_SIZE:
            headers.add_vary_header("Accept-Encoding")
            if self.encoding is not None:
                body = compress(body, self.encoding)
                headers["Content-Encoding"] = self.encoding
                headers["Content-Length"] = str(len(body))
        await self.send(self.start)
        await self.send({"type": "http.response.body", "body": body})

    async def _start_stream(self, message: Message) -> None:
        assert self.start is not None
        headers = MutableHeaders(raw=self.start["headers"])
        headers.add_vary_header("Accept-Encoding")
        if self.encoding is None:
            self.passthrough = True
            await self.send(self.start)
            await self.send(message)
            return
        headers["Content-Encoding"] = self.encoding
        del headers["Content-Length"]
        await self.send(self.start)
        self.streamer = _Streamer(self.send, self.encoding)
        await self.streamer.send_chunk(message)


class _Streamer:
    def __init__(self, send: Send, encoding: str) -> None:
        self.send = send
        if encoding == "br":
            compressor = brotli.Compressor(quality=BROTLI_QUALITY)
            self.process, self.flush, self.finish = compressor.process, compressor.flush, compressor.finish
        else:
            compressor = zlib.compressobj(GZIP_LEVEL, wbits=31)
            self.process = compressor.compress
            self.flush = lambda: compressor.flush(zlib.Z_SYNC_FLUSH)
            self.finish = compressor.flush

    async def send_chunk(self, message: Message) -> None:
        more = message.get("more_body", False)
        data = self.process(message.get("body", b"")) + (self.flush() if more else self.finish())
        await self.send({"type": "http.response.body", "body": data, "more_body": more})
