// Tests for the formatters (format.ts).
import { describe, expect, it } from 'vitest';
import { formatAgo, formatByteRate, formatBytes, formatDuration, formatMsgRate, formatNumber, formatPercent, formatTime, toMillis } from './format';

describe('formatBytes', () => {
  it('scales by 1024 with two significant decimals at most', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(10 * 1024 * 1024)).toBe('10 MiB');
    expect(formatBytes(123.4 * 1024 * 1024)).toBe('123 MiB');
    expect(formatBytes(199065600)).toBe('190 MiB');
    expect(formatBytes(-2048)).toBe('-2 KiB');
  });
  it('shows a dash for missing values', () => {
    expect(formatBytes(undefined)).toBe('—');
    expect(formatBytes(NaN)).toBe('—');
    expect(formatBytes('12')).toBe('—');
  });
});

describe('rates', () => {
  it('formats byte and message rates', () => {
    expect(formatByteRate(10.5)).toBe('11 B/s');
    expect(formatByteRate(2560)).toBe('2.5 KiB/s');
    expect(formatMsgRate(0.25)).toBe('0.25 msg/s');
    expect(formatMsgRate(12.345)).toBe('12.3 msg/s');
    expect(formatMsgRate(1)).toBe('1 msg/s');
    expect(formatMsgRate(null)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('picks ms, s, m, h, d', () => {
    expect(formatDuration(0.42)).toBe('0.42 ms');
    expect(formatDuration(3.2)).toBe('3.2 ms');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(1500)).toBe('1.5 s');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(200_000)).toBe('3 m 20 s');
    expect(formatDuration(7.5 * 3600e3)).toBe('7 h 30 m');
    expect(formatDuration(50 * 3600e3)).toBe('2 d 2 h');
    expect(formatDuration(-1500)).toBe('-1.5 s');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('misc', () => {
  it('formats percentages and numbers', () => {
    expect(formatPercent(0.1234)).toBe('12.3 %');
    expect(formatPercent(0.05)).toBe('5 %');
    expect(formatPercent(1)).toBe('100 %');
    expect(formatPercent(undefined)).toBe('—');
    expect(formatNumber(3.14159)).toBe('3.14');
    expect(formatNumber(2, 3)).toBe('2');
    expect(formatNumber(-0.000006)).toBe('0');
    expect(formatNumber(-1.5)).toBe('-1.5');
  });
  it('parses and prints times in UTC', () => {
    expect(toMillis('2026-11-30T12:56:00Z')).toBe(Date.UTC(2026, 10, 30, 12, 56));
    expect(toMillis(5)).toBe(5);
    expect(Number.isNaN(toMillis('nope'))).toBe(true);
    expect(formatTime('2026-11-30T12:56:00.123Z')).toBe('2026-11-30 12:56:00');
    expect(formatTime(Date.UTC(2026, 0, 2, 3, 4, 5))).toBe('2026-01-02 03:04:05');
    expect(formatTime(null)).toBe('—');
  });
  it('says how long ago', () => {
    const now = Date.UTC(2026, 0, 1, 0, 10);
    expect(formatAgo(now - 500, now)).toBe('just now');
    expect(formatAgo(now - 42_000, now)).toBe('42 s ago');
    expect(formatAgo(now - 200_000, now)).toBe('3 m ago');
  });
});
