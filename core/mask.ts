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

const ID_RE = /(?<![0-9])([1-9][0-9]{5})(?:19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}([0-9Xx])(?![0-9])/g;
const PHONE_RE = /(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])/g;
const BANK_RE = /(?<![0-9])(?:[0-9]{4}[ -]?){3,4}[0-9]{1,4}(?![0-9])/g;

/** Scrubs ID numbers, mobile numbers and bank-account-like digit runs out of free text. */
export function maskSensitiveText(text: string): string {
  return text
    .replace(ID_RE, (m) => maskIdNumber(m))
    .replace(PHONE_RE, (m) => maskPhone(m))
    .replace(BANK_RE, (m) => (m.replace(/[ -]/g, '').length >= 12 ? maskBankAccount(m) : m));
}
