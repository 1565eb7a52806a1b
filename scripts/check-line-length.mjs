// Fails when a line under src/ is longer than 160 characters: Biome's lineWidth only applies
// when it formats, and a line that long is read by scrolling sideways.
import fs from 'node:fs';
import path from 'node:path';

const MAX = 160;
const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src'];
const files = roots
  .flatMap((root) => (fs.statSync(root).isFile() ? [root] : fs.readdirSync(root, { recursive: true }).map((f) => path.join(root, f))))
  .filter((f) => /\.[cm]?[jt]s$/.test(f))
  .sort();
let long = 0;
for (const file of files) {
  fs.readFileSync(file, 'utf8')
    .split('\n')
    .forEach((line, i) => {
      if (line.length <= MAX) return;
      long++;
      console.error(`${file}:${i + 1}: ${line.length} characters (at most ${MAX})`);
    });
}
if (long) {
  console.error(`${long} lines over ${MAX} characters: wrap them`);
  process.exit(1);
}
