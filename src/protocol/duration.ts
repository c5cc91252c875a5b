/** proto3-JSON `Duration` ("50s", "9.5s") to and from milliseconds. */

export function formatDuration(ms: number): string {
  const seconds = Math.max(0, ms) / 1000;
  // At most 3 decimals (milliseconds), trailing zeros dropped: 50000 → "50s", 9500 → "9.5s".
  return `${Number(seconds.toFixed(3))}s`;
}

export function parseDuration(text: string): number | undefined {
  const m = /^(-?\d+(?:\.\d{1,9})?)s$/.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * 1000);
}
