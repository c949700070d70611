/**
 * Rows as aligned columns (a header is just the first row; `nodee status` has none, its rows
 * are key and value): two spaces between columns, the
 * last column unpadded (it may be long: a URL, an error). One line per row. Control
 * characters are shown as "?": cells hold data anyone may have written (a ZooKeeper record's
 * labels, a service's ports), and a newline or an escape sequence in one would forge rows or
 * drive the terminal.
 */
export function table(rows: string[][]): string {
  const clean = rows.map((r) => r.map((c) => c.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')));
  const widths = (clean[0] ?? []).map((_, i) => Math.max(...clean.map((r) => (r[i] ?? '').length)));
  return clean.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ') + '\n').join('');
}
