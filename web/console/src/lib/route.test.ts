// Tests for hash route parsing (route.ts).
import { describe, expect, it } from 'vitest';
import { parseRoute, routeHref } from './route';

describe('parseRoute', () => {
  it('maps hashes to pages', () => {
    expect(parseRoute('')).toEqual({ page: 'home', params: {} });
    expect(parseRoute('#/')).toEqual({ page: 'home', params: {} });
    expect(parseRoute('#/alerts')).toEqual({ page: 'alerts', params: {} });
    expect(parseRoute('#/segments/')).toEqual({ page: 'segments', params: {} });
    expect(parseRoute('#federation')).toEqual({ page: 'federation', params: {} });
  });
  it('reads query parameters', () => {
    expect(parseRoute('#/alerts?camera=cam-1&type=unknown_face')).toEqual({ page: 'alerts', params: { camera: 'cam-1', type: 'unknown_face' } });
  });
  it('falls back to home for unknown pages', () => {
    expect(parseRoute('#/nope?x=1').page).toBe('home');
  });
  it('round-trips through routeHref', () => {
    expect(routeHref('home')).toBe('#/');
    expect(routeHref('alerts', { camera: 'a b', type: '' })).toBe('#/alerts?camera=a+b');
    expect(parseRoute(routeHref('alerts', { camera: 'a b' })).params.camera).toBe('a b');
  });
});
