#!/usr/bin/env node
// A small stand-in for strata-console (docs/console.md, "Developing"): implements the console
// contract (/api/v1/overview, /api/v1/stream SSE, /api/v1/services, /api/v1/svc/{service}/... proxy,
// static files from --web-dir) in Node, for UI work and for running the e2e test before the
// C++ service is built (`console.e2e.mjs --mock-console`). Not for production: no auth, no limits.
//   node e2e/mock-console.mjs --upstreams upstreams.json [--port 8090] [--port-file F] [--web-dir dist]
//                             [--token T]   (then every /api/v1 route needs Authorization: Bearer T)
// upstreams.json: [{"name","type","tier","node","url"}, ...]
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';

const argv = process.argv.slice(2);
const opt = (n, d) => (argv.indexOf(`--${n}`) >= 0 ? argv[argv.indexOf(`--${n}`) + 1] : d);
const upstreams = JSON.parse(readFileSync(opt('upstreams'), 'utf8'));
const webDir = opt('web-dir', '');
const token = opt('token', '');
const byName = new Map(upstreams.map((u) => [u.name, u]));
const clients = new Set();
let overview = { generated_at_ms: Date.now(), poll_interval_ms: 1000, nodes: [], links: [] };
let prevLinks = new Map();
let prevAt = 0;
const seenAlerts = new Set();
let alertsPrimed = false;

function parseMetrics(text) {
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^(strata_link_[a-z_]+)\{([^}]*)\}\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...m[2].matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    rows.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return rows;
}

function quantile(buckets, q) {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (!total) return null;
  let prevLe = 0, prevC = 0;
  for (const [le, c] of buckets) {
    if (c >= q * total) {
      if (!Number.isFinite(le)) return prevLe * 1000;
      return (prevLe + ((le - prevLe) * (q * total - prevC)) / Math.max(c - prevC, 1e-9)) * 1000;
    }
    prevLe = le;
    prevC = c;
  }
  return null;
}

async function get(url, ms = 800) {
  return fetch(url, { signal: AbortSignal.timeout(ms) });
}

async function poll() {
  const nodes = new Map();
  const links = new Map();
  await Promise.all(
    upstreams.map(async (u) => {
      let state = 'down', detail = '';
      try {
        const r = await get(`${u.url}/readyz`);
        state = r.ok ? 'ready' : 'failing';
        if (!r.ok) detail = (await r.text()).slice(0, 200);
        const m = parseMetrics(await (await get(`${u.url}/metrics`)).text());
        for (const row of m) {
          const key = `${row.labels.src}>${row.labels.dst}`;
          const l = links.get(key) ?? { src: row.labels.src, dst: row.labels.dst, bytes_total: 0, messages_total: 0, buckets: new Map() };
          if (row.name === 'strata_link_bytes_total') l.bytes_total += row.value;
          if (row.name === 'strata_link_messages_total') l.messages_total += row.value;
          if (row.name === 'strata_link_latency_seconds_bucket') {
            const le = row.labels.le === '+Inf' ? Infinity : Number(row.labels.le);
            l.buckets.set(le, (l.buckets.get(le) ?? 0) + row.value);
          }
          links.set(key, l);
        }
      } catch (e) {
        detail = String(e.message ?? e);
      }
      const n = nodes.get(u.node) ?? { name: u.node, tier: u.tier, services: [] };
      n.services.push({ name: u.name, type: u.type, url: u.url, state, detail });
      nodes.set(u.node, n);
    }),
  );
  const now = Date.now();
  const dt = prevAt ? (now - prevAt) / 1000 : 0;
  const out = [...links.values()].map((l) => {
    const p = prevLinks.get(`${l.src}>${l.dst}`);
    const b = [...l.buckets.entries()].sort((a, c) => a[0] - c[0]);
    return {
      src: l.src, dst: l.dst, bytes_total: l.bytes_total, messages_total: l.messages_total,
      bytes_per_s: p && dt ? (l.bytes_total - p.bytes_total) / dt : 0,
      messages_per_s: p && dt ? (l.messages_total - p.messages_total) / dt : 0,
      latency_ms_p50: quantile(b, 0.5), latency_ms_p95: quantile(b, 0.95),
    };
  });
  prevLinks = new Map(out.map((l) => [`${l.src}>${l.dst}`, l]));
  prevAt = now;
  overview = { generated_at_ms: now, poll_interval_ms: 1000, nodes: [...nodes.values()], links: out };
  send('overview', JSON.stringify(overview));
  const notify = upstreams.find((u) => u.type === 'notify');
  if (notify) {
    try {
      const d = await (await get(`${notify.url}/api/v1/events?limit=50`)).json();
      for (const e of (d.events ?? []).slice().reverse()) {
        const key = `${e.alert_id}/${e.phase}/${e.updated_at}`;
        if (seenAlerts.has(key)) continue;
        seenAlerts.add(key);
        if (alertsPrimed) send('alert', JSON.stringify(e), e.alert_id);
      }
      alertsPrimed = true;
    } catch {}
  }
}

function send(event, data, id) {
  for (const res of clients) res.write(`event: ${event}\n${id ? `id: ${id}\n` : ''}data: ${data}\n\n`);
}

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };
const json = (res, code, doc, type = 'application/json') => {
  res.writeHead(code, { 'Content-Type': type });
  res.end(JSON.stringify(doc));
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x');
  const p = url.pathname;
  if (p === '/healthz' || p === '/readyz') return json(res, 200, { status: 'ok' });
  if (token && p.startsWith('/api/') && req.headers.authorization !== `Bearer ${token}`)
    return json(res, 401, { title: 'Unauthorized', status: 401, detail: 'missing or wrong bearer token' }, 'application/problem+json');
  if (p === '/api/v1/overview') return json(res, 200, overview);
  if (p === '/api/v1/services') return json(res, 200, { services: upstreams });
  if (p === '/api/v1/stream') {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
    res.write(`event: overview\ndata: ${JSON.stringify(overview)}\n\n`);
    clients.add(res);
    const ka = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    req.on('close', () => {
      clearInterval(ka);
      clients.delete(res);
    });
    return;
  }
  const m = /^\/api\/v1\/svc\/([^/]+)\/(.*)$/.exec(p);
  if (m) {
    const u = byName.get(decodeURIComponent(m[1]));
    if (!u) return json(res, 404, { title: 'Not Found', status: 404, detail: `unknown service '${m[1]}'` }, 'application/problem+json');
    const chunks = [];
    for await (const c of req) chunks.push(c);
    try {
      const headers = {};
      if (req.headers['content-type']) headers['content-type'] = req.headers['content-type'];
      const r = await fetch(`${u.url}/api/v1/${m[2]}${url.search}`, {
        method: req.method, headers, body: ['GET', 'HEAD'].includes(req.method) ? undefined : Buffer.concat(chunks),
        signal: AbortSignal.timeout(10000),
      });
      res.writeHead(r.status, { 'Content-Type': r.headers.get('content-type') ?? 'application/octet-stream' });
      res.end(Buffer.from(await r.arrayBuffer()));
    } catch (e) {
      json(res, 502, { title: 'Bad Gateway', status: 502, detail: `${u.name}: ${e.message}` }, 'application/problem+json');
    }
    return;
  }
  if (webDir && req.method === 'GET') {
    const f = normalize(join(webDir, p === '/' ? 'index.html' : p));
    if (f.startsWith(normalize(webDir)) && existsSync(f) && statSync(f).isFile()) {
      res.writeHead(200, { 'Content-Type': TYPES[extname(f)] ?? 'application/octet-stream' });
      return res.end(readFileSync(f));
    }
  }
  json(res, 404, { title: 'Not Found', status: 404, detail: p }, 'application/problem+json');
});

server.listen(Number(opt('port', 0)), '127.0.0.1', () => {
  const port = server.address().port;
  if (opt('port-file')) writeFileSync(opt('port-file'), String(port));
  console.log(`mock-console: http://127.0.0.1:${port}`);
  poll();
  setInterval(poll, 1000);
});
