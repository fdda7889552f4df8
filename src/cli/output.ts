// Rows as a script or a person reads them: JSON, CSV, or an aligned table (numbers to the right).

export type Cell = string | number | null | undefined;

export function csv(headers: string[], rows: Cell[][]): string {
  const quote = (cell: Cell) => {
    const text = cell === null || cell === undefined ? "" : String(cell);
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return [headers, ...rows].map((row) => row.map(quote).join(",")).join("\n") + "\n";
}

export function alignedTable(headers: string[], rows: Cell[][], color: boolean): string {
  const text = rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? "–" : String(cell))));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === "number" || row[i] === null || row[i] === undefined));
  const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  const head = line(headers);
  return [color ? `\x1b[1m${head}\x1b[0m` : head, ...text.map(line)].join("\n") + "\n";
}

/** `7d`, `24h`, `30m`, or a date/time (2026-12-01, an ISO timestamp): the start of a window, in ms. */
export function parseSince(value: string, now = Date.now()): number | undefined {
  const relative = /^(\d+)\s*([mhdw])$/.exec(value.trim());
  if (relative) {
    const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[relative[2] as "m" | "h" | "d" | "w"];
    return now - Number(relative[1]) * unit;
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(value.trim())) return undefined;
  const at = Date.parse(value.trim());
  return Number.isNaN(at) ? undefined : at;
}

export function usd(value: number | null | undefined): string {
  return value === null || value === undefined ? "–" : `$${value.toFixed(4)}`;
}
