// Money in the console: Stripe's minor units to words and back, exactly, with integers (never floats for money math).

/** Stripe's zero-decimal currencies: `amount` counts whole units (1000 jpy is ¥1000). */
const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
/** Stripe's three-decimal currencies. */
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/**
 * How many digits of an `amount` are after the decimal point, as Stripe counts them. Stripe's table, not ICU's: they
 * differ (ISK, HUF and TWD are sent to Stripe with two decimals although ICU formats them with none).
 */
export function minorDigits(currency: string): number {
  const code = currency.toLowerCase();
  if (ZERO_DECIMAL.has(code)) return 0;
  if (THREE_DECIMAL.has(code)) return 3;
  return 2;
}

/** The exact decimal text of a minor-unit amount: 2500 usd → "25.00", 5000 jpy → "5000", -5 usd → "-0.05". */
export function toDecimalString(amount: number, currency: string): string {
  if (!Number.isSafeInteger(amount)) throw new RangeError(`${amount} is not an amount in minor units`);
  const digits = minorDigits(currency);
  const sign = amount < 0 ? '-' : '';
  const text = String(Math.abs(amount));
  if (digits === 0) return sign + text;
  const padded = text.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/** An amount in the currency's own format: formatMoney(2500, 'usd', 'en-US') is "$25.00", (5000, 'jpy') is "¥5,000". */
export function formatMoney(amount: number, currency: string, locale?: string): string {
  const digits = minorDigits(currency);
  const format = new Intl.NumberFormat(locale, {
    style: 'currency',
    currency: currency.toUpperCase(),
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // A numeric string is formatted as the exact decimal it spells (Intl.NumberFormat v3), so no float ever holds money.
  return format.format(toDecimalString(amount, currency) as Intl.StringNumericLiteral);
}

export type ParsedAmount = { ok: true; amount: number } | { ok: false; message: string };

/**
 * What a person typed ("25", "25.5", "25,50") as minor units of the currency, or why not. Only digits and one decimal
 * separator: "1,000" is refused rather than guessed, since "1,000" is one thousand in one locale and one in another.
 */
export function parseMoney(input: string, currency: string): ParsedAmount {
  const text = input.trim();
  const digits = minorDigits(currency);
  const code = currency.toUpperCase();
  const match = /^(\d+)(?:[.,](\d*))?$/.exec(text);
  if (text === '' || !match) {
    return { ok: false, message: digits === 0 ? `Enter a whole number of ${code}, digits only.` : `Enter an amount such as 12.50, digits and one decimal point.` };
  }
  const whole = match[1] ?? '0';
  const fraction = match[2] ?? '';
  if (fraction.length > digits) {
    return { ok: false, message: digits === 0 ? `${code} has no decimals: enter a whole number.` : `${code} has at most ${digits} decimals.` };
  }
  const minorText = (whole + fraction.padEnd(digits, '0')).replace(/^0+(?=\d)/, '');
  if (minorText.length > 15) return { ok: false, message: 'That amount is too large.' };
  const amount = Number(minorText);
  if (amount < 1) return { ok: false, message: 'Enter an amount above zero.' };
  return { ok: true, amount };
}
