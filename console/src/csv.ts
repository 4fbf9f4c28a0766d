// CSV as RFC 4180 writes it: parse an uploaded file into rows, and write rows that spreadsheets open safely.

export interface CsvRow {
  /** The line of the file where the row starts (1-based), for messages. */
  line: number;
  cells: string[];
}

export type CsvParse = { ok: true; rows: CsvRow[] } | { ok: false; line: number; message: string };

/**
 * Rows of cells. Quoted cells may hold commas, quotes ("") and line breaks; CRLF or LF ends a row; a byte-order mark
 * and blank lines are ignored. Reports the first malformed line instead of guessing.
 */
export function parseCsv(text: string): CsvParse {
  const rows: CsvRow[] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  let cellStarted = false;
  let line = 1;
  let rowLine = 1;
  let quoteLine = 1;
  const source = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const endRow = () => {
    row.push(cell);
    if (!(row.length === 1 && row[0] === '' && !cellStarted)) rows.push({ line: rowLine, cells: row });
    row = [];
    cell = '';
    cellStarted = false;
  };
  for (let i = 0; i < source.length; i += 1) {
    const ch = source[i];
    if (quoted) {
      if (ch === '"') {
        if (source[i + 1] === '"') {
          cell += '"';
          i += 1;
        } else {
          quoted = false;
          const next = source[i + 1];
          if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
            return { ok: false, line, message: 'a closing quote must end its cell' };
          }
        }
      } else {
        if (ch === '\n') line += 1;
        cell += ch;
      }
      continue;
    }
    if (ch === '"') {
      if (cell !== '') return { ok: false, line, message: 'a quote may only open a cell' };
      quoted = true;
      quoteLine = line;
      cellStarted = true;
    } else if (ch === ',') {
      row.push(cell);
      cell = '';
      cellStarted = true;
    } else if (ch === '\r' || ch === '\n') {
      if (ch === '\r' && source[i + 1] === '\n') i += 1;
      endRow();
      line += 1;
      rowLine = line;
    } else {
      cell += ch;
      cellStarted = true;
    }
  }
  if (quoted) return { ok: false, line: quoteLine, message: 'a quoted cell is never closed' };
  if (cell !== '' || row.length > 0 || cellStarted) endRow();
  return { ok: true, rows };
}

/** A cell that a spreadsheet would run as a formula (=, +, -, @, tab, CR) gets a leading ' (OWASP's CSV injection advice). */
const defuse = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

const quote = (value: string): string => (/[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

/** Rows as CSV text with CRLF line ends. Numbers are written as they are; text cells are defused and quoted as needed. */
export function writeCsv(rows: readonly (readonly (string | number | null | undefined)[])[]): string {
  return rows
    .map((row) => row.map((cell) => (cell === null || cell === undefined ? '' : typeof cell === 'number' ? String(cell) : quote(defuse(cell)))).join(','))
    .join('\r\n')
    .concat('\r\n');
}
