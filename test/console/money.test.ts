// Money in the console: minor units to the currency's own format and back, exactly, for Stripe's digit table.
import { describe, expect, it } from 'vitest';
import { formatMoney, minorDigits, parseMoney, toDecimalString } from '../../console/src/money.js';

describe('formatMoney', () => {
  it('when 2500 usd is shown, then it reads $25.00', () => {
    expect(formatMoney(2500, 'usd', 'en-US')).toBe('$25.00');
  });

  it('when 5000 jpy is shown, then it reads ¥5,000 (a zero-decimal currency has no cents)', () => {
    expect(formatMoney(5000, 'jpy', 'en-US')).toBe('¥5,000');
  });

  it('when a three-decimal currency is shown, then three digits follow the point', () => {
    expect(formatMoney(1234, 'bhd', 'en-US')).toMatch(/^BHD\s1\.234$/);
  });

  it('when the amount is one minor unit, then it is the smallest coin', () => {
    expect(formatMoney(1, 'usd', 'en-US')).toBe('$0.01');
    expect(formatMoney(1, 'jpy', 'en-US')).toBe('¥1');
  });

  it('when the amount is past what a float can divide exactly, then every digit is still right', () => {
    // 9007199254740991 / 100 as a float is 90071992547409.9: the last cent would be lost.
    expect(toDecimalString(Number.MAX_SAFE_INTEGER, 'usd')).toBe('90071992547409.91');
    expect(formatMoney(Number.MAX_SAFE_INTEGER, 'usd', 'en-US')).toBe('$90,071,992,547,409.91');
  });

  it('when the locale is German, then the currency keeps its digits in that locale’s format', () => {
    expect(formatMoney(123456, 'eur', 'de-DE')).toBe('1.234,56\u00a0€');
  });

  it('when a currency is given in capitals, then it is the same currency', () => {
    expect(minorDigits('JPY')).toBe(0);
    expect(formatMoney(2500, 'USD', 'en-US')).toBe('$25.00');
  });

  it('when an amount is not an integer, then it is refused rather than rounded', () => {
    expect(() => toDecimalString(25.5, 'usd')).toThrow(RangeError);
  });

  it('when ISK, HUF or TWD is shown, then Stripe’s two decimals are used (not ICU’s zero)', () => {
    expect(minorDigits('isk')).toBe(2);
    expect(toDecimalString(10000, 'isk')).toBe('100.00');
  });
});

describe('parseMoney', () => {
  const ok = (amount: number) => ({ ok: true, amount });

  it.each([
    ['25', 'usd', 2500],
    ['25.5', 'usd', 2550],
    ['25.50', 'usd', 2550],
    ['25,50', 'usd', 2550],
    ['0.01', 'usd', 1],
    [' 19.99 ', 'usd', 1999],
    ['0019.99', 'usd', 1999],
    ['5000', 'jpy', 5000],
    ['12.345', 'bhd', 12345],
    ['999999.99', 'usd', 99999999],
  ])('when "%s" %s is typed, then it is %i minor units', (text, currency, amount) => {
    expect(parseMoney(text, currency)).toEqual(ok(amount));
  });

  it.each([
    ['', 'usd'],
    ['abc', 'usd'],
    ['1,000.00', 'usd'],
    ['1e3', 'usd'],
    ['-5', 'usd'],
    ['25.555', 'usd'],
    ['0', 'usd'],
    ['0.00', 'usd'],
    ['50.5', 'jpy'],
    ['9999999999999999', 'usd'],
  ])('when "%s" %s is typed, then it is refused with a reason', (text, currency) => {
    const parsed = parseMoney(text, currency);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.message.length).toBeGreaterThan(10);
  });

  it('when yen with decimals is typed, then the message says the currency has none', () => {
    expect(parseMoney('50.5', 'jpy')).toEqual({ ok: false, message: 'JPY has no decimals: enter a whole number.' });
  });

  it('when any amount is shown and typed back, then it is the same number of minor units', () => {
    for (const currency of ['usd', 'jpy', 'bhd']) {
      for (let amount = 1; amount < 100_000_000; amount = amount * 7 + 3) {
        expect(parseMoney(toDecimalString(amount, currency), currency)).toEqual(ok(amount));
      }
    }
  });
});
