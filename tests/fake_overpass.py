"""A loopback stand-in for the Overpass and Nominatim APIs, for offline tests of downloads.

The server answers osmnx's real requests over HTTP on 127.0.0.1:

* ``POST <base>/api/interpreter`` (Overpass): parses the query osmnx sends
  (``way[filters](poly:'lat lon ...');>;`` ...), keeps the ways that pass every tag filter
  (Overpass semantics: regexes unanchored, ``!~`` and ``!=`` match a missing key) and touch
  the polygon, and returns them with all their nodes as Overpass JSON.
* ``GET <base>/search`` (Nominatim): looks the ``q`` parameter up in a small gazetteer of
  ``name -> shapely Polygon`` and returns Nominatim's JSON list (empty when unknown).

``mode`` makes it misbehave instead: ``"http500"`` (HTTP 500 with an HTML body) or
``"garbage"`` (HTTP 200 with a body that is not JSON). The server is bounded: it answers at
most ``max_requests`` requests (later ones get HTTP 503) and is stopped by :meth:`stop`.
"""
from __future__ import annotations

import bz2
import json
import re
import threading
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import parse_qs, urlparse

import shapely
from shapely.geometry import LineString, Point, Polygon, mapping

_WAY_QUERY = re.compile(r"way((?:\[[^\]]*\])*)\(poly:'([^']*)'\)")
#: osmnx's features query: ``(node['key'='value'](poly:'lat lon ...');(._;>;););`` per tag
_FEATURE_QUERY = re.compile(r"\((node|way|relation)\['([^']+)'(?:='([^']*)')?\]\(poly:'([^']*)'\)")
_TAG_FILTER = re.compile(r'\["([^"]+)"(?:(!?[=~])"([^"]*)")?\]')


def osm_xml_elements(path: str | Path) -> list[dict[str, Any]]:
    """Nodes and ways of an OSM XML file (plain or ``.bz2``) as Overpass JSON elements."""
    path = Path(path)
    opener = bz2.open if path.name.endswith(".bz2") else open
    with opener(path, "rb") as fh:
        root = ET.parse(fh).getroot()
    elements: list[dict[str, Any]] = []
    for el in root:
        tags = {t.get("k"): t.get("v") for t in el.findall("tag")}
        if el.tag == "node":
            elements.append({"type": "node", "id": int(el.get("id")), "lat": float(el.get("lat")),
                             "lon": float(el.get("lon")), "tags": tags})
        elif el.tag == "way":
            elements.append({"type": "way", "id": int(el.get("id")),
                             "nodes": [int(nd.get("ref")) for nd in el.findall("nd")], "tags": tags})
    return elements


def _passes(tags: Mapping[str, str], filters: list[tuple[str, str, str]]) -> bool:
    for key, op, value in filters:
        have = tags.get(key)
        if op == "":
            ok = have is not None
        elif op == "=":
            ok = have == value
        elif op == "!=":
            ok = have != value
        elif op == "~":
            ok = have is not None and re.search(value, have) is not None
        else:  # "!~"
            ok = have is None or re.search(value, have) is None
        if not ok:
            return False
    return True


def overpass_answer(elements: list[dict[str, Any]], query: str) -> dict[str, Any]:
    """What an Overpass server returns for osmnx's network query over ``elements``."""
    nodes = {e["id"]: e for e in elements if e["type"] == "node"}
    ways = [e for e in elements if e["type"] == "way"]
    out_ways: dict[int, dict[str, Any]] = {}
    for filter_str, poly_str in _WAY_QUERY.findall(query):
        filters = _TAG_FILTER.findall(filter_str)
        vals = [float(v) for v in poly_str.split()]
        poly = Polygon(list(zip(vals[1::2], vals[0::2])))  # "lat lon" pairs -> (lon, lat)
        shapely.prepare(poly)
        for way in ways:
            if way["id"] in out_ways or not _passes(way["tags"], filters):
                continue
            coords = [(nodes[n]["lon"], nodes[n]["lat"]) for n in way["nodes"] if n in nodes]
            geom = LineString(coords) if len(coords) > 1 else Point(coords[0])
            if poly.intersects(geom):
                out_ways[way["id"]] = way
    out_nodes: set[int] = set()
    for kind, key, value, poly_str in _FEATURE_QUERY.findall(query):
        vals = [float(v) for v in poly_str.split()]
        poly = Polygon(list(zip(vals[1::2], vals[0::2])))
        want = lambda tags: key in tags and (not value or tags[key] == value)  # noqa: E731
        if kind == "node":
            out_nodes.update(n["id"] for n in nodes.values()
                             if want(n.get("tags", {})) and poly.intersects(Point(n["lon"], n["lat"])))
        elif kind == "way":
            for way in ways:
                coords = [(nodes[n]["lon"], nodes[n]["lat"]) for n in way["nodes"] if n in nodes]
                if want(way["tags"]) and len(coords) > 1 and poly.intersects(LineString(coords)):
                    out_ways[way["id"]] = way
    node_ids = sorted(out_nodes | {n for w in out_ways.values() for n in w["nodes"] if n in nodes})
    return {
        "version": 0.6,
        "generator": "fake Overpass (tests/fake_overpass.py)",
        "elements": [nodes[n] for n in node_ids] + [out_ways[k] for k in sorted(out_ways)],
    }


def nominatim_answer(gazetteer: Mapping[str, Polygon], query: str) -> list[dict[str, Any]]:
    """Nominatim ``/search?format=json&polygon_geojson=1`` results for ``query``."""
    poly = gazetteer.get(query)
    if poly is None:
        return []
    w, s, e, n = poly.bounds
    c = poly.centroid
    return [{
        "place_id": 1, "licence": "Data (c) OpenStreetMap contributors, ODbL 1.0",
        "osm_type": "relation", "osm_id": 1, "lat": f"{c.y:.7f}", "lon": f"{c.x:.7f}",
        "class": "boundary", "type": "administrative", "place_rank": 16, "importance": 0.5,
        "addresstype": "suburb", "name": query, "display_name": query,
        "boundingbox": [f"{s:.7f}", f"{n:.7f}", f"{w:.7f}", f"{e:.7f}"],
        "geojson": mapping(poly),
    }]


@dataclass
class FakeOsmServer:
    """Overpass + Nominatim on ``127.0.0.1:<free port>``; use as a context manager."""

    elements: list[dict[str, Any]] = field(default_factory=list)
    gazetteer: Mapping[str, Polygon] = field(default_factory=dict)
    mode: str = "ok"
    max_requests: int = 8
    #: ``(path, query)`` per request received: the Overpass QL text or the URL query string.
    requests: list[tuple[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> "FakeOsmServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server API
                server._handle(self, "")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                server._handle(self, self.rfile.read(length).decode())

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(timeout=5)
            self._httpd = None

    def __enter__(self) -> "FakeOsmServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _handle(self, h: BaseHTTPRequestHandler, body: str) -> None:
        parsed = urlparse(h.path)
        query = parse_qs(body).get("data", [""])[0] if body else parsed.query
        with self._lock:
            self.requests.append((parsed.path, query))
            over = len(self.requests) > self.max_requests
        if over:
            return self._send(h, 503, "text/plain", b"fake server: request limit reached")
        if self.mode == "http500":
            return self._send(h, 500, "text/html", b"<html><body>Internal Server Error</body></html>")
        if self.mode == "garbage":
            return self._send(h, 200, "application/json", b"\x00\x01 this is not json {")
        if self.mode == "remark":  # what Overpass sends when it gives up: 200, no data, a remark
            return self._send(h, 200, "application/json", json.dumps({
                "version": 0.6, "generator": "Overpass API", "elements": [],
                "remark": 'runtime error: Query timed out in "query" at line 1 after 181 seconds.'}).encode())
        if parsed.path.endswith("/interpreter") and h.command == "POST":
            payload: Any = overpass_answer(self.elements, query)
        elif parsed.path.endswith("/search"):
            payload = nominatim_answer(self.gazetteer, parse_qs(parsed.query).get("q", [""])[0])
        else:
            return self._send(h, 404, "text/plain", f"no such endpoint {parsed.path}".encode())
        self._send(h, 200, "application/json", json.dumps(payload).encode())

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, ctype: str, data: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)
