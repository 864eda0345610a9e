// Alert list state for the Alerts page: a reducer that merges pages from notify's /events and
// live `alert` SSE events, deduplicated by alert_id (a later phase replaces the earlier one in
// place), newest first, bounded; plus the camera/type/time filter. Pure (alerts.test.ts).
import type { Alert } from './types';
import { toMillis } from './format';

export const MAX_ALERTS = 500;

export interface AlertState {
  items: Alert[];
  next: string | null; // notify's paging cursor for older events
}

export type AlertAction =
  | { kind: 'page'; events: Alert[]; next: string | null; replace: boolean }
  | { kind: 'live'; event: Alert }
  | { kind: 'update'; event: Alert };

export const emptyAlerts: AlertState = { items: [], next: null };

export function alertReducer(state: AlertState, action: AlertAction): AlertState {
  switch (action.kind) {
    case 'page': {
      const base = action.replace ? [] : state.items;
      const seen = new Set(base.map((a) => a.alert_id));
      const items = [...base];
      for (const e of action.events) {
        if (!e || typeof e.alert_id !== 'string') continue;
        if (seen.has(e.alert_id)) continue;
        seen.add(e.alert_id);
        items.push(e);
      }
      return { items: items.slice(0, MAX_ALERTS), next: action.next };
    }
    case 'live': {
      const e = action.event;
      if (!e || typeof e.alert_id !== 'string') return state;
      const i = state.items.findIndex((a) => a.alert_id === e.alert_id);
      if (i >= 0) {
        // Same alert, a later phase: replace it where it is (keep a local ack if the event lacks one).
        const items = state.items.slice();
        items[i] = { ...items[i], ...e };
        return { ...state, items };
      }
      return { ...state, items: [e, ...state.items].slice(0, MAX_ALERTS) };
    }
    case 'update': {
      const e = action.event;
      const i = state.items.findIndex((a) => a.alert_id === e.alert_id);
      if (i < 0) return state;
      const items = state.items.slice();
      items[i] = { ...items[i], ...e };
      return { ...state, items };
    }
  }
}

export interface AlertFilter {
  camera?: string;
  type?: string;
  sinceMs?: number; // only alerts that started at or after this time
}

export function alertTime(a: Alert): number {
  const t = toMillis(a.started_at ?? a.updated_at ?? a.captured_at);
  return Number.isFinite(t) ? t : 0;
}

export function filterAlerts(items: Alert[], f: AlertFilter): Alert[] {
  return items.filter(
    (a) =>
      (!f.camera || a.camera === f.camera) &&
      (!f.type || a.event_type === f.type) &&
      (f.sinceMs === undefined || alertTime(a) >= f.sinceMs),
  );
}

/** Distinct non-empty values of a field, sorted, for filter drop-downs. */
export function distinct(items: Alert[], field: 'camera' | 'event_type'): string[] {
  return [...new Set(items.map((a) => a[field]).filter((v): v is string => typeof v === 'string' && v !== ''))].sort();
}

/** notify's `acknowledged: {by, at_ms}` (null until acknowledged); older shapes tolerated. */
export function isAcked(a: Alert): boolean {
  const k = a.acknowledged;
  if (k && typeof k === 'object') return true;
  return Boolean(k === true || a.acked_at || a.acked_by || (a.ack && (a.ack.at || a.ack.by)));
}

export function ackedBy(a: Alert): string {
  const k = a.acknowledged;
  if (k && typeof k === 'object' && typeof k.by === 'string') return k.by;
  return a.acked_by ?? a.ack?.by ?? '';
}
