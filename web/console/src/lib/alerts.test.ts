// Tests for the alert list reducer and filters (alerts.ts).
import { describe, expect, it } from 'vitest';
import { ackedBy, alertReducer, distinct, emptyAlerts, filterAlerts, isAcked, MAX_ALERTS } from './alerts';
import type { Alert } from './types';

const a = (id: string, extra: Partial<Alert> = {}): Alert => ({ alert_id: id, camera: 'cam-1', event_type: 'zone_entry', started_at: '2026-11-30T12:00:00Z', ...extra });

describe('alertReducer', () => {
  it('loads a page, dropping duplicates and malformed events', () => {
    const s = alertReducer(emptyAlerts, { kind: 'page', events: [a('3'), a('2'), a('2'), { nope: 1 } as unknown as Alert], next: '2', replace: true });
    expect(s.items.map((x) => x.alert_id)).toEqual(['3', '2']);
    expect(s.next).toBe('2');
  });
  it('appends older pages and replaces on reload', () => {
    let s = alertReducer(emptyAlerts, { kind: 'page', events: [a('3')], next: '3', replace: true });
    s = alertReducer(s, { kind: 'page', events: [a('3'), a('1')], next: null, replace: false });
    expect(s.items.map((x) => x.alert_id)).toEqual(['3', '1']);
    expect(s.next).toBeNull();
    s = alertReducer(s, { kind: 'page', events: [a('9')], next: null, replace: true });
    expect(s.items.map((x) => x.alert_id)).toEqual(['9']);
  });
  it('prepends new live alerts and replaces a later phase of a known one in place', () => {
    let s = alertReducer(emptyAlerts, { kind: 'page', events: [a('2'), a('1')], next: null, replace: true });
    s = alertReducer(s, { kind: 'live', event: a('3') });
    expect(s.items.map((x) => x.alert_id)).toEqual(['3', '2', '1']);
    s = alertReducer(s, { kind: 'live', event: a('2', { phase: 'update', identity: { status: 'known', name: 'alice' } }) });
    expect(s.items.map((x) => x.alert_id)).toEqual(['3', '2', '1']);
    expect(s.items[1].phase).toBe('update');
    expect(s.items[1].identity?.name).toBe('alice');
  });
  it('ignores live events without an id and bounds the list', () => {
    let s = alertReducer(emptyAlerts, { kind: 'live', event: {} as Alert });
    expect(s).toBe(emptyAlerts);
    for (let i = 0; i < MAX_ALERTS + 5; i++) s = alertReducer(s, { kind: 'live', event: a(`id${i}`) });
    expect(s.items).toHaveLength(MAX_ALERTS);
    expect(s.items[0].alert_id).toBe(`id${MAX_ALERTS + 4}`);
  });
  it('updates (ack) only alerts it has', () => {
    let s = alertReducer(emptyAlerts, { kind: 'page', events: [a('1')], next: null, replace: true });
    s = alertReducer(s, { kind: 'update', event: a('1', { acked_by: 'operator', acked_at: '2026-11-30T12:01:00Z' }) });
    expect(isAcked(s.items[0])).toBe(true);
    const same = alertReducer(s, { kind: 'update', event: a('7') });
    expect(same).toBe(s);
  });
});

describe('filters', () => {
  const items = [
    a('1', { camera: 'porch', event_type: 'unknown_face', started_at: '2026-11-30T10:00:00Z' }),
    a('2', { camera: 'yard', event_type: 'zone_entry', started_at: '2026-11-30T11:00:00Z' }),
    a('3', { camera: 'porch', event_type: 'zone_entry', started_at: '2026-11-30T12:00:00Z' }),
  ];
  it('filters by camera, type and start time', () => {
    expect(filterAlerts(items, { camera: 'porch' }).map((x) => x.alert_id)).toEqual(['1', '3']);
    expect(filterAlerts(items, { type: 'zone_entry' }).map((x) => x.alert_id)).toEqual(['2', '3']);
    expect(filterAlerts(items, { camera: 'porch', type: 'zone_entry' }).map((x) => x.alert_id)).toEqual(['3']);
    expect(filterAlerts(items, { sinceMs: Date.parse('2026-11-30T10:30:00Z') }).map((x) => x.alert_id)).toEqual(['2', '3']);
    expect(filterAlerts(items, {})).toHaveLength(3);
  });
  it('lists distinct cameras and types', () => {
    expect(distinct(items, 'camera')).toEqual(['porch', 'yard']);
    expect(distinct(items, 'event_type')).toEqual(['unknown_face', 'zone_entry']);
  });
  it('recognises the ack shapes', () => {
    expect(isAcked(a('1'))).toBe(false);
    expect(isAcked(a('1', { ack: { by: 'x', at: 't' } }))).toBe(true);
    expect(isAcked(a('1', { acked_at: null }))).toBe(false);
    expect(isAcked(a('1', { acknowledged: null }))).toBe(false);
    expect(isAcked(a('1', { acknowledged: { by: 'op', at_ms: 5 } }))).toBe(true);
    expect(ackedBy(a('1', { acknowledged: { by: 'op', at_ms: 5 } }))).toBe('op');
    expect(ackedBy(a('1'))).toBe('');
  });
});
