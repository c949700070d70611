/**
 * Rows as aligned columns, the first row being the header: two spaces between columns, the
 * last column unpadded (it may be long: a URL, an error). One line per row.
 */
export function table(rows: string[][]): string {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ') + '\n').join('');
}
