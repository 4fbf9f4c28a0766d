// CSV as RFC 4180 writes it: parsing uploads (quotes, line breaks, BOM) and writing downloads that spreadsheets open safely.
import { describe, expect, it } from 'vitest';
import { parseCsv, writeCsv } from '../../console/src/csv.js';

const cells = (text: string) => {
  const parsed = parseCsv(text);
  if (!parsed.ok) throw new Error(`line ${parsed.line}: ${parsed.message}`);
  return parsed.rows.map((r) => r.cells);
};

describe('parseCsv', () => {
  it('when cells are quoted, then commas, doubled quotes and line breaks inside them are kept', () => {
    expect(cells('a,"b,c","say ""hi""","two\nlines"\n')).toEqual([['a', 'b,c', 'say "hi"', 'two\nlines']]);
  });

  it('when rows end with CRLF or LF, and blank lines are between them, then the same rows come out', () => {
    expect(cells('a,b\r\n\r\nc,d\ne,f')).toEqual([
      ['a', 'b'],
      ['c', 'd'],
      ['e', 'f'],
    ]);
  });

  it('when the file starts with a byte-order mark, then the first cell does not carry it', () => {
    expect(cells('\uFEFFkey,amount\nk1,100\n')[0]).toEqual(['key', 'amount']);
  });

  it('when a row has empty cells, then they are empty strings', () => {
    expect(cells('a,,c\n,,\n')).toEqual([
      ['a', '', 'c'],
      ['', '', ''],
    ]);
  });

  it('when a quoted cell spans lines, then the next row reports the line it starts on', () => {
    const parsed = parseCsv('h1,h2\n"x\ny",z\nlast,row\n');
    expect(parsed.ok && parsed.rows.map((r) => r.line)).toEqual([1, 2, 4]);
  });

  it.each([
    ['a,"open\n', 1, 'never closed'],
    ['a,b\nc,"x"y\n', 2, 'closing quote'],
    ['a,b"c"\n', 1, 'only open'],
  ])('when the CSV is malformed (%j), then the line and the fault are reported', (text, line, words) => {
    const parsed = parseCsv(text);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.line).toBe(line);
      expect(parsed.message).toContain(words);
    }
  });
});

describe('writeCsv', () => {
  it('when cells hold commas, quotes or line breaks, then they are quoted and read back the same', () => {
    const rows = [
      ['key', 'detail'],
      ['k,1', 'he said "no"\nthen left'],
    ];
    const text = writeCsv(rows);
    expect(text).toBe('key,detail\r\n"k,1","he said ""no""\nthen left"\r\n');
    expect(cells(text)).toEqual(rows);
  });

  it('when a cell would run as a spreadsheet formula, then it is written as text', () => {
    expect(writeCsv([['=HYPERLINK("x")', '+1', '-2', '@SUM(A1)', 'plain']])).toBe('"\'=HYPERLINK(""x"")",\'+1,\'-2,\'@SUM(A1),plain\r\n');
  });

  it('when cells are numbers or empty, then numbers are written as they are and empty cells stay empty', () => {
    expect(writeCsv([[2500, null, undefined, 'x']])).toBe('2500,,,x\r\n');
  });
});
