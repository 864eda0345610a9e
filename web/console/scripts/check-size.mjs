// Bundle budget check, run by `npm run build` after `vite build`: sums the gzipped size of every
// .js file under the output dir (STRATA_CONSOLE_OUT_DIR or dist/, or argv[2]) and fails (exit 1)
// when it is over the budget (STRATA_CONSOLE_JS_BUDGET_KB, default 60 KB). Prints the sizes.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = process.argv[2] || process.env.STRATA_CONSOLE_OUT_DIR || 'dist';
const budgetKb = Number(process.env.STRATA_CONSOLE_JS_BUDGET_KB || 60);

function walk(d) {
  return readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

let files;
try {
  files = walk(dir);
} catch (e) {
  console.error(`check-size: cannot read ${dir}: ${e.message}`);
  process.exit(1);
}
let js = 0, css = 0;
for (const f of files) {
  const gz = gzipSync(readFileSync(f), { level: 9 }).length;
  if (f.endsWith('.js')) js += gz;
  else if (f.endsWith('.css')) css += gz;
}
if (js === 0) {
  console.error(`check-size: no .js files under ${dir}`);
  process.exit(1);
}
const kb = (n) => (n / 1024).toFixed(1);
console.log(`check-size: JS ${kb(js)} KB gzipped (budget ${budgetKb} KB), CSS ${kb(css)} KB gzipped`);
if (js > budgetKb * 1024) {
  console.error(`check-size: FAIL — JS is ${kb(js - budgetKb * 1024)} KB over the budget`);
  process.exit(1);
}
