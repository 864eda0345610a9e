// Hash routing: "#/alerts?camera=cam-1" → {page: "alerts", params: {camera: "cam-1"}}.
// Unknown pages fall back to home. routeHref() builds the reverse.

export const PAGES = ['home', 'cameras', 'alerts', 'gallery', 'segments', 'federation'] as const;
export type Page = (typeof PAGES)[number];

export interface Route {
  page: Page;
  params: Record<string, string>;
}

export function parseRoute(hash: string): Route {
  let h = hash.startsWith('#') ? hash.slice(1) : hash;
  if (h.startsWith('/')) h = h.slice(1);
  const q = h.indexOf('?');
  const path = (q < 0 ? h : h.slice(0, q)).replace(/\/+$/, '');
  const params: Record<string, string> = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(h.slice(q + 1))) params[k] = v;
  }
  const name = path.split('/')[0] || 'home';
  const page = (PAGES as readonly string[]).includes(name) ? (name as Page) : 'home';
  return { page, params };
}

export function routeHref(page: Page, params: Record<string, string> = {}): string {
  const qs = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== '')).toString();
  return `#/${page === 'home' ? '' : page}${qs ? `?${qs}` : ''}`;
}
