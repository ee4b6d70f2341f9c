#!/usr/bin/env bash
# Refresh the workbench's vendored browser libraries and basemap from the npm registry (run by a maintainer, never
# at run time: the web UI loads nothing from the internet). Usage: bash scripts/vendor_web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack -q cytoscape@3.34.4 leaflet@1.9.4 chart.js@4.5.1 world-atlas@2.0.2 topojson-client@3.1.0 >/dev/null)
for f in "$tmp"/*.tgz; do d="${f%.tgz}"; mkdir -p "$d"; tar xzf "$f" -C "$d"; done
v=avellino/web/static/vendor
cp "$tmp"/cytoscape-*/package/dist/cytoscape.min.js "$v/"
cp "$tmp"/cytoscape-*/package/LICENSE "$v/LICENSE.cytoscape"
cp "$tmp"/leaflet-*/package/dist/leaflet.js "$tmp"/leaflet-*/package/dist/leaflet.css "$v/"
cp "$tmp"/leaflet-*/package/LICENSE "$v/LICENSE.leaflet"
cp "$tmp"/chart.js-*/package/dist/chart.umd.min.js "$v/"
cp "$tmp"/chart.js-*/package/LICENSE.md "$v/LICENSE.chartjs"
cp "$tmp"/world-atlas-*/package/LICENSE avellino/web/data/LICENSE.world-atlas
TC="$(ls -d "$tmp"/topojson-client-*)/package/dist/topojson-client.js" \
ATLAS="$(ls -d "$tmp"/world-atlas-*)/package/land-50m.json" node -e '
const tc = require(process.env.TC), t = require(process.env.ATLAS);
const land = tc.feature(t, t.objects.land);
const inWindow = (c) => c[0] > -30 && c[0] < 110 && c[1] > 0 && c[1] < 75;
const round = (c) => [Math.round(c[0] * 100) / 100, Math.round(c[1] * 100) / 100];
const polys = [];
for (const f of land.features || [land]) {
  const g = f.geometry, ps = g.type === "Polygon" ? [g.coordinates] : g.coordinates;
  for (const p of ps) if (p[0].some(inWindow)) polys.push(p.map((r) => r.map(round)));
}
process.stdout.write(JSON.stringify({type: "FeatureCollection", features: [{type: "Feature",
  properties: {source: "Natural Earth 1:50m land via world-atlas 2.0.2 (public domain)"},
  geometry: {type: "MultiPolygon", coordinates: polys}}]}));
' > avellino/web/data/land.geojson
echo "vendored into $v and avellino/web/data"
