// After `vite build`: a .gz twin of every JS, CSS and HTML file (handlers/console_site.py sends it to clients
// that accept gzip), and dist/weight.json: the gzip bytes of the JavaScript that index.html loads first.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dist = new URL("../dist/", import.meta.url).pathname;
const sizes = {};
for (const dir of [dist, join(dist, "assets")]) {
  for (const name of readdirSync(dir)) {
    if (!/\.(js|css|html|svg)$/.test(name)) continue;
    const zipped = gzipSync(readFileSync(join(dir, name)), { level: 9 });
    writeFileSync(join(dir, name + ".gz"), zipped);
    sizes[join(dir, name).slice(dist.length)] = zipped.length;
  }
}
const html = readFileSync(join(dist, "index.html"), "utf8");
const first = [...html.matchAll(/(?:src|href)="\/console\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const firstLoadGzipBytes = first.reduce((sum, file) => sum + sizes[file], 0);
writeFileSync(join(dist, "weight.json"), JSON.stringify({ firstLoad: first, firstLoadGzipBytes, files: sizes }, null, 2));
console.log(`first load: ${first.length} JS files, ${(firstLoadGzipBytes / 1024).toFixed(1)} KiB gzip`);
