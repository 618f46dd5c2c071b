/**
 * Masking of personal identifiers for logs, staff views and anything sent to a model.
 * 310101198803122038 -> 310101********2038, 13800000001 -> 138****0001,
 * 6222 0000 0000 0001 -> **** **** **** 0001.
 */
export function maskIdNumber(id: string): string {
  const s = id.trim();
  if (s.length < 10) return '*'.repeat(s.length);
  return `${s.slice(0, 6)}${'*'.repeat(s.length - 10)}${s.slice(-4)}`;
}

/** 孙明 -> 孙*, 陈桂英 -> 陈**, a Latin name -> its first letter and stars (what a verifier sees of a holder). */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length === 0) return '';
  return chars[0] + '*'.repeat(Math.max(1, chars.length - 1));
}

export function maskPhone(phone: string): string {
  const s = phone.replace(/\s+/g, '');
  if (s.length < 7) return '*'.repeat(s.length);
  return `${s.slice(0, 3)}${'*'.repeat(s.length - 7)}${s.slice(-4)}`;
}

export function maskBankAccount(account: string): string {
  const digits = account.replace(/\s+/g, '');
  if (digits.length <= 4) return '*'.repeat(digits.length);
  return `**** **** **** ${digits.slice(-4)}`;
}

/**
 * A run of digits as people type them: ASCII or full-width, grouped by spaces or dashes
 * ("310107 19850101 0514", "138-0000-0005", "１３８０００００００５"), an ID number's final X
 * included. Not inside a code that starts with letters (SA20261201000001, SHGJJ-0003).
 */
const DIGIT_RUN = /(?<![0-9A-Za-z０-９Ａ-Ｚａ-ｚ_])[0-9０-９](?:[ \u00a0\u3000\-－–—‐]?[0-9０-９]){5,}(?:[ \u00a0\u3000\-－–—‐]?[XxＸｘ])?(?![0-9A-Za-z０-９Ａ-Ｚａ-ｚ])/g;
const ID_NUMBER = /^[1-9][0-9]{5}(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9X]$/;
const MOBILE = /^1[3-9][0-9]{9}$/;

/** The digits of a run, full-width ones read as ASCII, separators dropped. */
function digitsOf(run: string): string {
  return run
    .replace(/[０-９]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0))
    .replace(/[ＸｘXx]/g, 'X')
    .replace(/[^0-9X]/g, '');
}

/**
 * Scrubs ID numbers, mobile numbers and bank-account-like digit runs out of free text,
 * however they are spaced or written (full-width digits, dashes): used for logs, staff views,
 * transcripts and anything sent to a model.
 */
export function maskSensitiveText(text: string): string {
  return text.replace(DIGIT_RUN, (run) => {
    const d = digitsOf(run);
    if (ID_NUMBER.test(d)) return maskIdNumber(d);
    if (d.includes('X')) return run;
    if (MOBILE.test(d)) return maskPhone(d);
    // A landline with its area code (0571-88888888) starts with 0; a bank card never does.
    if (d.length >= 12 && !d.startsWith('0')) return maskBankAccount(d);
    return run;
  });
}
